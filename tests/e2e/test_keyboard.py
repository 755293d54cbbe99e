"""Keyboard users see where they are: on the main pages, every stop of the Tab key shows a focus
indicator, on screen, and Tab reaches every link and control (none is skipped or trapped)."""

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from app.call.models import Call
from app.idea.models import Idea
from tests.e2e.harness import E2EServer, assert_focus_visible, login_as

pytestmark = pytest.mark.e2e

FOCUSABLE_JS = """() => [...document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, summary')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1
                  && getComputedStyle(el).visibility !== 'hidden' && !el.closest('[inert]'); }).length"""


def tab_through(page: Page, path: str, limit: int = 150) -> None:
    page.goto(path)
    expected = page.evaluate(FOCUSABLE_JS)
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        what = assert_focus_visible(page)
        if page.evaluate("() => { const el = document.activeElement; const seen = 'tabSeen' in el.dataset;"
                         " el.dataset.tabSeen = '1'; return seen; }"):
            break  # back to the first stop: the whole cycle is done
        stops.append(what)
    assert len(stops) >= expected, f"{path}: Tab reached {len(stops)} of {expected} controls: {stops}"


def test_every_tab_stop_is_visible(server: E2EServer, context: BrowserContext, page: Page) -> None:
    with server.session() as s:
        slug = s.exec(select(Call.slug).order_by(Call.id)).first()  # type: ignore[arg-type]
        idea_id = s.exec(select(Idea.id).where(Idea.status == "published")).first()
    for path in ("/", "/account/register", f"/calls/{slug}", f"/ideas/{idea_id}"):
        tab_through(page, path)
    login_as(context, server, server.create_user(display_name="Clé Clavier"))
    for path in ("/", f"/ideas/{idea_id}", "/account"):
        tab_through(page, path)
