"""The header on a phone is one row, a menu button folding the menu, the search box and the
languages (issue 15: the signed-in header took three rows); it works without JavaScript. On a
desktop everything stays on one row, for an administrator too, the current page marked."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import DESKTOP, MOBILE, E2EServer, check_page, login_as

pytestmark = pytest.mark.e2e

ROW = 64  # px: the brand and the button, 48 px tall targets, and the header's padding


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _header_height(page: Page) -> float:
    box = page.locator(".site-header").bounding_box()
    assert box is not None
    return box["height"]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_phone_header_is_one_row_with_a_menu(server: E2EServer, new_context: Callable[..., BrowserContext],
                                               javascript: bool) -> None:
    admin = server.create_user(role="admin", display_name="Alexandra Administratrice")
    context = new_context(viewport=MOBILE, java_script_enabled=javascript)
    login_as(context, server, admin)
    page = context.new_page()
    page.goto("/calls")
    assert _header_height(page) <= ROW
    expect(page.get_by_role("link", name="Administration")).to_be_hidden()
    expect(page.get_by_role("searchbox")).to_be_hidden()

    page.get_by_role("link", name="Menu").click()
    expect(page.get_by_role("link", name="Administration")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Rechercher des idées")).to_be_visible()
    _no_horizontal_scroll(page)
    expect(page.get_by_role("link", name="NL Nederlands")).to_be_visible()
    current = page.locator("header").get_by_role("link", name="Appels", exact=True)
    expect(current).to_have_attribute("aria-current", "page")
    if javascript:  # the checks' own script runs only with JavaScript
        check_page(page, "header-menu-open", mobile=False)
        page.screenshot(path="test-artifacts/screenshots/header-menu-open-phone.png")
    page.get_by_role("link", name="Fermer le menu").click()
    expect(page.get_by_role("link", name="Administration")).to_be_hidden()

    page.get_by_role("link", name="Menu").click()
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    expect(page.get_by_role("link", name="Administration")).to_be_hidden()  # a new page starts folded


@pytest.mark.parametrize("width", [DESKTOP["width"], 1440])
def test_a_desktop_header_is_one_row_for_a_citizen(server: E2EServer, context: BrowserContext, page: Page,
                                                   width: int) -> None:
    """My ideas, My supports, notifications and the account: folded behind the menu button below
    1440 px (French and German names are long), one row from there."""
    citizen = server.create_user(display_name="Camille Citoyenne")
    login_as(context, server, citizen)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/calls")
    assert _header_height(page) <= ROW
    if width < 1440:
        page.get_by_role("link", name="Menu").click()
    else:
        expect(page.get_by_role("link", name="Menu")).to_be_hidden()
    current = page.locator("header").get_by_role("link", name="Appels", exact=True)
    expect(current).to_have_attribute("aria-current", "page")
    for name in ("Appels", "Mes idées", "Mes soutiens", "Notifications", "Camille Citoyenne"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Rechercher des idées")).to_be_visible()
    if width >= 1440:
        assert _header_height(page) <= ROW
        tops = {round(box["y"]) for box in (page.locator(".lang-switcher a").nth(n).bounding_box()
                                             for n in range(4)) if box is not None}
        assert len(tops) == 1  # FR EN NL DE on one row
    _no_horizontal_scroll(page)


def test_a_visitors_desktop_header_is_one_row(server: E2EServer, page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/calls")
    expect(page.get_by_role("link", name="Menu")).to_be_hidden()
    assert _header_height(page) <= ROW
    expect(page.get_by_role("searchbox", name="Rechercher des idées")).to_be_visible()
    _no_horizontal_scroll(page)


@pytest.mark.parametrize("width", [DESKTOP["width"], 1600])
def test_an_administrators_header_never_wraps(server: E2EServer, context: BrowserContext, page: Page,
                                              width: int) -> None:
    """Two more entries than a citizen's: folded behind the menu button below 1600 px, one row above."""
    admin = server.create_user(role="admin", display_name="Alexandra Administratrice")
    login_as(context, server, admin)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/admin")
    assert _header_height(page) <= ROW
    brand = page.locator(".brand").bounding_box()
    assert brand is not None and brand["height"] <= 48  # "Réinventons" on one line
    menu = page.get_by_role("link", name="Menu")
    if width < 1600:
        page.get_by_role("link", name="Menu").click()
    else:
        expect(menu).to_be_hidden()
    expect(page.get_by_role("link", name="Administration")).to_have_attribute("aria-current", "page")
    tops = {round(box["y"]) for box in (page.locator(".lang-switcher a").nth(n).bounding_box() for n in range(4))
            if box is not None}
    assert len(tops) == 1  # FR EN NL DE on one row
    _no_horizontal_scroll(page)
    page.screenshot(path=f"test-artifacts/screenshots/header-admin-{width}.png", clip={
        "x": 0, "y": 0, "width": width, "height": 200})
