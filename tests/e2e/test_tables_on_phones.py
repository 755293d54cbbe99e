"""Tables on phones (issue 15): below 600 px the moderation queue, a person's ideas and the
administration's lists read as cards, one per row, each line named by its column; nothing
scrolls sideways."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import MOBILE, E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


def _reads_as_cards(page: Page, table: str) -> None:
    cell = page.locator(f"{table} tbody td").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "block"
    label = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert label not in ("none", "normal", '""'), label  # the column's name above the value
    expect(page.locator(f"{table} thead")).to_have_css("position", "absolute")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_staff_and_citizens_lists_read_as_cards_on_a_phone(server: E2EServer,
                                                           new_context: Callable[..., BrowserContext]) -> None:
    moderator = server.create_user(role="admin", display_name="Marie Modératrice")
    author = server.create_user(display_name="Paul Auteur")
    with server.session() as s:
        call = make_call(s, premoderation=True, title="Appel en cours")
        make_idea(s, call, author, status="submitted", title="Un composteur de quartier rue Saint-Léonard",
                  body="Un composteur partagé près de l'école, entretenu par les voisins et la maison de quartier.")
        s.commit()

    staff = new_context(viewport=MOBILE)
    login_as(staff, server, moderator)
    page = staff.new_page()
    page.goto("/moderation")
    expect(page.locator(".queue-excerpt", has_text="Un composteur partagé près de l'école")).to_be_visible()
    _reads_as_cards(page, "table.queue")
    check_page(page, "moderation-queue-phone")
    for path, table, name in (("/admin/users", "table.people", "admin-users-phone"),
                              ("/admin/calls", "table.table-cards", "admin-calls-phone")):
        page.goto(path)
        _reads_as_cards(page, table)
        check_page(page, name)

    citizen = new_context(viewport=MOBILE)
    login_as(citizen, server, author)
    mine = citizen.new_page()
    mine.goto("/ideas/mine")
    _reads_as_cards(mine, "table.table-cards")
    check_page(mine, "my-ideas-phone")
