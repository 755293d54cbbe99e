"""Every page a person can reach by following links, as each role, under `check_page`.

Starting from the home page (and the role's own entry points), the crawler follows same-origin
links on the demo's content and checks each kind of page once per role: /ideas/3 and /ideas/7
are one kind (digits and query values do not count). A page added by any domain is checked as
soon as a link leads to it, with no test to write; a link that answers with an error fails.
Visitors and citizens crawl the whole public site; moderators and administrators only their own
areas (the public pages are the same for them). Both languages: visitors in French and English,
moderation in French, administration (and moderation again) in English."""

import re
from collections import deque
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from app.account.models import User
from app.demo import DEMO_ACCOUNTS
from tests.e2e.harness import E2EServer, check_page, login_as

pytestmark = pytest.mark.e2e

MAX_KINDS = 50
SKIP = re.compile(
    r"^/(static|api|media)/|^/(sw\.js|healthz|offline)$|\.(csv|json|xml|atom|rss|png|jpe?g|webp|svg|zip|xlsx)$"
    r"|/photos/|/cover/|/feed|/unsubscribe|/account/(verify|password/reset)"
    r"|/council/calls/\d+/file$|/intakes/\d+/export$"  # downloads (a spreadsheet, a JSON file), not pages
)
LINKS_JS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download'))
  .map(a => a.href)"""
ENTRY_POINTS = {"citizen": ["/notifications", "/account"], "moderator": ["/moderation"], "admin": ["/admin"]}


def kind_of(path: str, query: str) -> str:
    keys = sorted({key for key, _value in parse_qsl(query) if key != "page"})
    # A language in the path (/admin/legal/privacy/nl) is one kind of page, not four.
    path = re.sub(r"/(fr|en|nl|de)(?=/|$)", "/L", path)
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


def crawl(server: E2EServer, page: Page, role: str, lang: str, scope: tuple[str, ...] = ("/",)) -> dict[str, str]:
    """Visits one page of each kind reachable from the entry points, staying within the `scope`
    path prefixes; returns kind -> problem."""
    page.goto(f"/?lang={lang}")
    queue = deque([*ENTRY_POINTS.get(role, []), "/"] if scope != ("/",) else ["/", *ENTRY_POINTS.get(role, [])])
    seen_kinds: set[str] = set()
    problems: dict[str, str] = {}
    while queue and len(seen_kinds) < MAX_KINDS:
        url = queue.popleft()
        parts = urlsplit(url)
        kind = kind_of(parts.path, parts.query)
        if kind in seen_kinds or SKIP.search(parts.path) or "lang=" in parts.query:
            continue
        if parts.path != "/" and not parts.path.startswith(scope):
            continue
        seen_kinds.add(kind)
        response = page.goto(url)
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        if response.status != 200:
            problems[kind] = f"HTTP {response.status} for {url}, linked from the site"
            continue
        name = f"crawl-{role}-" + (re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "home")
        try:
            check_page(page, name, screenshot=False)
        except AssertionError as failure:
            problems[kind] = str(failure)
        for link in page.evaluate(LINKS_JS):
            target = urlsplit(link)
            if f"{target.scheme}://{target.netloc}" == server.url:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen_kinds) >= 5, f"the crawl found too few pages: {seen_kinds}"
    return problems


def demo_user(server: E2EServer, role: str) -> User:
    email = next(email for email, _name, demo_role, _password in DEMO_ACCOUNTS if demo_role == role)
    with server.session() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        s.expunge(user)
        return user


@pytest.mark.parametrize(("role", "lang", "scope"), [
    ("visitor", "fr", ("/",)),
    ("visitor", "en", ("/",)),
    ("citizen", "fr", ("/",)),
    ("moderator", "fr", ("/moderation",)),
    ("admin", "en", ("/admin", "/moderation")),
], ids=["visitor-fr", "visitor-en", "citizen-fr", "moderator-fr", "admin-en"])
def test_every_linked_page_passes_the_checks(server: E2EServer, context: BrowserContext, page: Page,
                                             role: str, lang: str, scope: tuple[str, ...]) -> None:
    if role != "visitor":
        login_as(context, server, demo_user(server, role))
    problems = crawl(server, page, role, lang, scope)
    assert not problems, "\n\n".join(f"{kind}:\n{problem}" for kind, problem in sorted(problems.items()))
