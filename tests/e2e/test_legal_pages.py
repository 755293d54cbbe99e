"""The legal pages (issue 15) in all four languages under every check of `check_page`, reached
from the footer; an administrator rewrites one through the form and sees it published."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as, visit_and_check

pytestmark = pytest.mark.e2e

LANGUAGES = ("fr", "en", "nl", "de")


def test_legal_pages_in_every_language(server: E2EServer, page: Page) -> None:
    for path in ("/privacy", "/terms", "/accessibility", "/contact"):
        visit_and_check(page, path, f"legal{path.replace('/', '-')}", LANGUAGES)
    page.goto("/?lang=fr")
    page.locator("footer").get_by_role("link", name="Déclaration d’accessibilité").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration d’accessibilité")


def test_an_administrator_completes_the_contact_page(server: E2EServer, context: BrowserContext, page: Page) -> None:
    admin = server.create_user(role="admin", display_name="Alice Admin")
    login_as(context, server, admin)
    page.goto("/admin/legal?lang=fr")
    check_page(page, "admin-legal-pages")
    page.get_by_role("link", name="Français").last.click()  # the last page of the list: contact
    check_page(page, "admin-legal-page-form")
    page.get_by_label("Texte (Markdown").fill("## L'équipe participation\nparticipation@liege.be, 04 221 00 00.")
    page.get_by_role("button", name="Enregistrer la page").click()
    expect(page.locator(".flashes")).to_contain_text("La page est enregistrée.")
    page.goto("/contact?lang=fr")
    expect(page.get_by_role("heading", level=2)).to_have_text("L'équipe participation")
    expect(page.locator("main")).to_contain_text("participation@liege.be")
