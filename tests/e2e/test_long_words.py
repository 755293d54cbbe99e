"""Long unbroken words never widen a page (issue 10, defect 11): a German compound, a pasted
address or `AAAA…` in a title made a call's list 960 px wide on a 360 px phone. Every kind of page
that shows user text is opened with such words in it (tests/e2e/long_words.py) and checked at
390 px by `check_page`, and at 360 and 320 px for sideways scrolling; so is an e-mail's HTML."""

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from app import mail
from app.account.models import Role, User
from app.call.models import Call
from app.demo import DEMO_ACCOUNTS
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.e2e.long_words import ADDRESS, COMPOUND, LONG_NAME, LONG_TITLE, LongWords, find_long_words

pytestmark = pytest.mark.e2e

PHONES = ({"width": 360, "height": 800}, {"width": 320, "height": 640})
SIDEWAYS_JS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const wide = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
  return `${root.scrollWidth}px wide for ${root.clientWidth}px (${wide.join(', ')})`;
}"""


@pytest.fixture
def long_words(server: E2EServer) -> LongWords:
    with server.session() as s:
        return find_long_words(s)


def _user(server: E2EServer, email: str) -> User:
    with server.session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        s.expunge(user)
        return user


def _no_sideways_scrolling(page: Page) -> list[str]:
    problems = []
    size = page.viewport_size
    try:
        for phone in PHONES:
            page.set_viewport_size(phone)
            found = page.evaluate(SIDEWAYS_JS)
            if found:
                problems.append(f"{page.url} at {phone['width']} px: {found}")
    finally:
        if size:
            page.set_viewport_size(size)
    return problems


def _visit(page: Page, path: str, name: str, must_show: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: HTTP {response.status if response else '?'}"
    assert must_show in page.content(), f"{path} does not show the long words it should"
    check_page(page, f"long-words-{name}")
    return _no_sideways_scrolling(page)


def test_public_pages_wrap_long_words(server: E2EServer, page: Page, long_words: LongWords) -> None:
    problems: list[str] = []
    for path, name, shown in (
        ("/", "home", COMPOUND),
        ("/calls", "calls", COMPOUND),
        (f"/calls/{long_words.call_slug}", "call", LONG_TITLE),
        (f"/ideas/{long_words.idea_id}", "idea", ADDRESS.replace("&", "&amp;")),
    ):
        problems += _visit(page, path, name, shown)
    assert not problems, "\n".join(problems)


def test_citizen_pages_wrap_long_words(server: E2EServer, context: BrowserContext, page: Page,
                                       long_words: LongWords) -> None:
    login_as(context, server, _user(server, "mots-longs@example.org"))
    problems: list[str] = []
    for path, name, shown in (
        ("/notifications", "notifications", COMPOUND),
        ("/account", "profile", COMPOUND),
        ("/ideas/mine", "mine", COMPOUND),
        (f"/ideas/{long_words.idea_id}", "idea-author", LONG_NAME),
    ):
        problems += _visit(page, path, name, shown)
    assert not problems, "\n".join(problems)


def test_staff_pages_wrap_long_words(server: E2EServer, context: BrowserContext, page: Page,
                                     long_words: LongWords) -> None:
    admin_email = next(email for email, _n, role, _p in DEMO_ACCOUNTS if role == Role.admin)
    login_as(context, server, _user(server, admin_email))
    problems: list[str] = []
    for path, name, shown in (
        (f"/moderation?call={_call_id(server, long_words)}", "queue", COMPOUND),
        ("/moderation?tab=reported", "reported", COMPOUND),
        (f"/moderation/ideas/{long_words.idea_id}", "moderation-idea", COMPOUND),
        (f"/moderation/ideas/{long_words.pending_id}", "moderation-pending", COMPOUND),
        (f"/moderation/users/{long_words.author_id}", "moderation-user", COMPOUND),
        ("/admin/audit", "audit", COMPOUND),
        ("/admin/users", "users", COMPOUND),
        ("/admin/calls", "admin-calls", COMPOUND),
        (f"/admin/calls/{_call_id(server, long_words)}", "admin-call", COMPOUND),
        ("/admin/districts", "admin-districts", COMPOUND),
        ("/admin/dialogue", "admin-dialogue", COMPOUND),
    ):
        problems += _visit(page, path, name, shown)
    assert not problems, "\n".join(problems)


def _call_id(server: E2EServer, long_words: LongWords) -> int:
    with server.session() as s:
        call = s.exec(select(Call).where(Call.slug == long_words.call_slug)).one()
        assert call.id is not None
        return call.id


def test_an_emails_html_wraps_long_words(page: Page) -> None:
    composed = mail.compose("notify_status", "fr", name=LONG_NAME, actor=LONG_NAME, subject=LONG_TITLE,
                            detail="accepted", note=f"{COMPOUND} {ADDRESS}", is_status=True,
                            link=f"https://participation.example.be/ideas/1?{COMPOUND}",
                            unsubscribe="https://participation.example.be/notifications/unsubscribe/" + "x" * 120,
                            preferences="https://participation.example.be/notifications/preferences")
    page.set_content(composed.html)
    problems = _no_sideways_scrolling(page)
    assert not problems, "\n".join(problems)
