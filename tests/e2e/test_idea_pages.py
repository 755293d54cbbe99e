"""Calls and ideas pages (issue 3) under every check of `check_page`, on the demo's content, in
French and English, logged out and logged in; the idea lists send thumbnails, not originals."""

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from app.account.models import User
from app.call.models import Call
from app.idea.models import Idea, IdeaPhoto
from tests.e2e.harness import E2EServer, check_page, login_as, visit_and_check

pytestmark = pytest.mark.e2e

LANGUAGES = ("fr", "en")
MAX_THUMB_BYTES = 80 * 1024


def demo_content(server: E2EServer) -> tuple[list[str], int, int]:
    """The demo's call slugs, a published idea with a photo and one without."""
    with server.session() as s:
        slugs = [c.slug for c in s.exec(select(Call).order_by(Call.id)).all()]  # type: ignore[arg-type]
        with_photo = s.exec(select(Idea.id).join(IdeaPhoto, IdeaPhoto.idea_id == Idea.id)  # type: ignore[arg-type]
                            .where(Idea.status == "published", Idea.hidden_at.is_(None))).first()  # type: ignore[union-attr]
        without = s.exec(select(Idea.id).where(Idea.status == "published", Idea.hidden_at.is_(None),  # type: ignore[union-attr]
                                               ~Idea.id.in_(select(IdeaPhoto.idea_id)))).first()  # type: ignore[union-attr]
    assert slugs and with_photo and without, "the demo should have calls and ideas with and without photos"
    return slugs, int(with_photo), int(without)


def test_call_and_idea_pages_logged_out(server: E2EServer, page: Page) -> None:
    # The site crawl (test_site_crawl.py) checks every other public page as a visitor.
    slugs, with_photo, without = demo_content(server)
    visit_and_check(page, "/", "home-calls", LANGUAGES)
    visit_and_check(page, f"/calls/{slugs[0]}", "call", LANGUAGES)
    visit_and_check(page, f"/ideas/{with_photo}", "idea-with-photo", LANGUAGES)
    visit_and_check(page, f"/ideas/{without}", "idea", LANGUAGES)


def test_call_and_idea_pages_logged_in(server: E2EServer, context: BrowserContext, page: Page) -> None:
    slugs, with_photo, _without = demo_content(server)
    citizen = server.create_user(display_name="Lou Participante")
    login_as(context, server, citizen)
    for lang in LANGUAGES:
        page.goto(f"/?lang={lang}")
        check_page(page, "home-calls-logged-in")
        page.goto(f"/ideas/{with_photo}")
        check_page(page, "idea-logged-in")
        # The crawl checks the other calls' pages logged in; here the one taking ideas.
        open_calls = []
        for slug in slugs:
            page.goto(f"/calls/{slug}")
            if page.locator(f'a[href="/calls/{slug}/ideas/new"]').count():
                open_calls.append(slug)
        assert open_calls, "a demo call should accept ideas"
        page.goto(f"/calls/{open_calls[0]}")
        check_page(page, "call-open-logged-in")
        page.goto(f"/calls/{open_calls[0]}/ideas/new")
        check_page(page, "idea-form")
        page.locator("form button[value=submit]").click()
        assert page.locator("#form-errors").is_visible()
        check_page(page, "idea-form-errors")


def test_idea_lists_send_thumbnails(server: E2EServer, page: Page) -> None:
    slugs, _with_photo, _without = demo_content(server)
    thumbs = 0
    for slug in slugs:
        page.goto(f"/calls/{slug}")
        for img in page.locator(".idea-card img").all():
            src = img.get_attribute("src") or ""
            assert src.endswith("/thumb"), f"a list shows {src}, not a thumbnail"
            body = page.request.get(src).body()
            assert len(body) <= MAX_THUMB_BYTES, f"{src} weighs {len(body)} bytes"
            assert int(img.get_attribute("width") or 0) <= 640
            thumbs += 1
    assert thumbs, "the demo's lists should show at least one photo"


def test_an_unverified_citizen_is_told_to_confirm_before_proposing(server: E2EServer, context: BrowserContext,
                                                                    page: Page) -> None:
    slugs, _with_photo, _without = demo_content(server)
    with server.session() as s:
        assert s.exec(select(User).limit(1)).first()
    login_as(context, server, server.create_user(verified=False))
    for slug in slugs:
        response = page.goto(f"/calls/{slug}/ideas/new")
        assert response is not None
        if response.status == 403 and "e-mail" in page.locator("main").inner_text():
            check_page(page, "idea-form-unverified")
            return
    pytest.fail("no call told an unverified citizen to confirm the e-mail address")
