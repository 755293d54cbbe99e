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


def test_the_author_sees_the_requested_changes_where_they_edit(server: E2EServer, context: BrowserContext,
                                                               page: Page) -> None:
    moderator = server.create_user(role="moderator", display_name="Marc Modérateur")
    author = server.create_user(display_name="Inès Autrice")
    with server.session() as s:
        call = make_call(s, premoderation=True, title="Appel avec prémodération")
        idea = make_idea(s, call, author, status="submitted", title="Des fontaines à boire au parc d'Avroy")
        s.commit()
        idea_id = idea.id
    login_as(context, server, moderator)
    page.goto(f"/moderation/ideas/{idea_id}")
    page.get_by_text("Demander des modifications à l’auteur").click()
    page.get_by_label("Que doit changer l’auteur\u202f?").fill(
        "Précisez à quel endroit du parc, près de quelle entrée.")
    page.get_by_role("button", name="Envoyer la demande").click()
    context.clear_cookies()
    login_as(context, server, author)
    page.goto(f"/ideas/{idea_id}")
    expect(page.locator(".requested-changes")).to_contain_text("près de quelle entrée")
    check_page(page, "idea-changes-requested")
    page.get_by_role("link", name="Modifier").click()
    expect(page.locator(".requested-changes")).to_contain_text("près de quelle entrée")
    check_page(page, "idea-edit-changes-requested")
