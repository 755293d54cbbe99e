"""Moderation in a real browser: working through the queue with the keyboard, deciding with a
reason, answering officially, and the administration pages, each page checked (axe, mobile,
HTML validity)."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as, tab_to
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


def test_moderator_works_through_the_queue(server: E2EServer, context: BrowserContext, page: Page) -> None:
    author = server.create_user(display_name="Inès Autrice")
    moderator = server.create_user(role="moderator", display_name="Marc Modérateur")
    with server.session() as s:
        call = make_call(s, premoderation=True, title="Appel modéré")
        first = make_idea(s, call, author, status="submitted", title="Un potager partagé au parc")
        second = make_idea(s, call, author, status="submitted", title="Des pistes cyclables séparées")
        third = make_idea(s, call, author, status="submitted", title="Une idée hors sujet")
        s.commit()
        first_id, second_id, third_id, call_id = first.id, second.id, third.id, call.id
    login_as(context, server, moderator)
    page.goto(f"/moderation?call={call_id}")  # the demo's own calls have pending ideas too
    check_page(page, "moderation-queue")
    expect(page.get_by_role("link", name="Idées en attente (3)")).to_be_visible()

    # Keyboard only: tick the first idea, then approve the selection.
    box = page.get_by_label("Sélectionner «\u202fUn potager partagé au parc\u202f»")
    tab_to(page, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Approuver les idées sélectionnées"))
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("1 idée approuvée.")
    expect(page.get_by_role("link", name="Idées en attente (2)")).to_be_visible()

    # One idea at a time: reject with a common reason and a few words.
    page.goto(f"/moderation/ideas/{third_id}")
    check_page(page, "moderation-idea")
    page.get_by_text("Refuser", exact=True).click()
    page.get_by_label("Motif courant", exact=True).select_option("off_topic")
    page.get_by_label("Motif communiqué à l’auteur (ajouté au motif courant)").fill(
        "Proposez-la plutôt à l'appel mobilité.")
    page.get_by_role("button", name="Refuser l’idée").click()
    expect(page.locator(".flash-success")).to_contain_text("a été refusée")
    # The next pending idea opens at once.
    assert page.url.endswith(f"/moderation/ideas/{second_id}")

    page.get_by_role("button", name="Approuver et publier").click()
    expect(page.get_by_text("Rien n’attend ici. Bravo\u202f!")).to_be_visible()

    # The official answer, shown on the public idea page.
    page.goto(f"/moderation/ideas/{first_id}")
    page.get_by_label("Statut de la réponse").select_option("accepted")
    page.get_by_label("Réponse publique").fill("Le service des plantations installera le potager au printemps.")
    page.get_by_role("button", name="Publier la réponse").click()
    page.goto(f"/ideas/{first_id}")
    expect(page.locator("#answer-title")).to_contain_text("La réponse de la Ville")
    expect(page.get_by_text("Le service des plantations installera le potager au printemps.")).to_be_visible()

    message = server.wait_for_mail(author.email, count=4)
    assert message is not None


def test_administration_pages(server: E2EServer, context: BrowserContext, page: Page) -> None:
    admin = server.create_user(role="admin", display_name="Alice Admin")
    with server.session() as s:
        call = make_call(s, phase="review", title="Appel en examen")
        make_idea(s, call, status="published", title="Une idée soutenue", vote_count=12, winner=True,
                  shortlisted=True)
        s.commit()
        call_id, slug = call.id, call.slug
    login_as(context, server, admin)
    for path, name in ((f"/moderation/calls/{call_id}/review", "moderation-review"),
                       (f"/moderation/calls/{call_id}/publish-results", "moderation-publish-results"),
                       ("/admin/audit", "admin-audit"), ("/admin/dialogue", "admin-dialogue"),
                       ("/admin/users", "admin-users"), (f"/admin/calls/{call_id}/moderators", "admin-moderators"),
                       (f"/calls/{slug}", "call-dialogue")):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        check_page(page, name)
