"""Issue 13 in a real browser: signing in at a real OpenID provider (oidc-provider from npm), and
a person managing their own account (password, e-mail address, sessions, data export), every
page checked by axe-core, the validator and the phone layout check."""

import io
import json
import re
import zipfile
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import harness
from tests.e2e.harness import E2EServer, check_page, login, open_menu, unique_email
from tests.support_oidc import Provider

pytestmark = pytest.mark.e2e

PASSWORD = "le pont des Arches au matin"
NEW_PASSWORD = "la Meuse en hiver sous la neige"


def desktop_screenshot(page: Page, name: str) -> None:
    """A full-page screenshot at desktop size, next to check_page's phone-sized ones."""
    harness.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(harness.SCREENSHOTS / f"{name}-desktop.png"), full_page=True)


def sign_in_at_provider(page: Page, login_name: str) -> None:
    """Play the person at the provider's own login page (oidc-provider's development form)."""
    page.locator("input[name=login]").fill(login_name)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").first.click()


def test_signing_in_with_an_openid_provider(oidc_server: tuple[E2EServer, Provider],
                                            new_context: Callable[..., BrowserContext]) -> None:
    server, _provider = oidc_server
    page = new_context(base_url=server.url).new_page()
    page.goto("/account/login")
    button = page.get_by_role("button", name="Se connecter avec Test ID")
    expect(button).to_be_visible()
    check_page(page, "login-with-provider")
    desktop_screenshot(page, "login-with-provider")
    button.click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    assert not page.url.startswith(server.url)  # at the provider
    sign_in_at_provider(page, "alice")
    page.wait_for_url(re.compile("^" + re.escape(server.url)))
    expect(page.locator(".flash")).to_contain_text("Alice Lambert")

    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    open_menu(page)  # folded on a desktop narrower than 1440 px
    expect(page.get_by_role("link", name="Alice Lambert")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Test ID")  # the linked identity
    expect(page.get_by_role("link", name="Changer mon mot de passe")).to_have_count(0)  # none to change
    check_page(page, "account-with-provider")
    desktop_screenshot(page, "account-with-provider")

    # No password: the e-mail page says how to get one first, and has no form.
    page.get_by_role("link", name="Changer mon adresse e-mail").click()
    expect(page.locator(".notice")).to_contain_text("Votre compte n’a pas de mot de passe")
    expect(page.get_by_label("Nouvelle adresse e-mail")).to_have_count(0)
    check_page(page, "account-email-no-password")

    page.goto("/account")
    page.get_by_role("link", name="Où je suis connecté·e").click()
    expect(page.locator(".session-item")).to_have_count(1)
    expect(page.locator(".session-item .badge")).to_have_text("Cette session")
    check_page(page, "account-sessions-provider")

    # Signing in again finds the same account.
    page.get_by_role("button", name="Terminer cette session (me déconnecter)").click()
    expect(page.locator(".flash")).to_contain_text("Vous êtes déconnecté")
    page.goto("/account/login")
    page.get_by_role("button", name="Se connecter avec Test ID").click()
    page.wait_for_url(re.compile("^" + re.escape(server.url)))  # the provider remembers Alice
    expect(page.locator(".flash")).to_contain_text("Alice Lambert")
    open_menu(page)
    expect(page.get_by_role("link", name="Alice Lambert")).to_be_visible()


def test_managing_my_own_account(server: E2EServer, page: Page, new_page: Callable[..., Page]) -> None:
    email, new_email = unique_email("gerer"), unique_email("nouvelle")
    server.create_user(email=email, display_name="Gaëlle Renard", password=PASSWORD)
    login(page, email, PASSWORD)
    phone = new_page(user_agent="Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0")
    login(phone, email, PASSWORD)

    page.goto("/account")
    expect(page.get_by_role("heading", name="Sécurité")).to_be_visible()
    check_page(page, "account-security")
    desktop_screenshot(page, "account-security")

    # Sessions: both browsers listed, this one marked; end the phone's.
    page.get_by_role("link", name="Où je suis connecté·e").click()
    expect(page.locator(".session-item")).to_have_count(2)
    expect(page.locator(".session-item .badge")).to_have_count(1)  # "Cette session"
    expect(page.locator(".session-item .badge")).to_have_text("Cette session")
    expect(page.locator(".session-item").filter(has_text="Firefox · Android")).to_have_count(1)
    check_page(page, "account-sessions")
    desktop_screenshot(page, "account-sessions")
    page.locator(".session-item").filter(has_text="Firefox · Android").get_by_role(
        "button", name="Terminer cette session").click()
    expect(page.locator(".flash")).to_contain_text("La session est terminée")
    expect(page.locator(".session-item")).to_have_count(1)
    phone.goto("/account")
    expect(phone).to_have_url(re.compile(r"/account/login"))

    # Password: a wrong current one is refused with a message; then changed.
    page.goto("/account")
    page.get_by_role("link", name="Changer mon mot de passe").click()
    check_page(page, "account-password")
    page.get_by_label("Mot de passe actuel").fill("pas le bon mot de passe")
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.locator("#f-current_password-error")).to_contain_text("n’est pas correct")
    check_page(page, "account-password-error")
    desktop_screenshot(page, "account-password-error")
    page.get_by_label("Mot de passe actuel").fill(PASSWORD)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.locator(".flash")).to_contain_text("Votre mot de passe est modifié")
    assert "modifié" in str(server.wait_for_mail(email)["Subject"]) or server.smtp.to(email)

    # E-mail address: a link to the new one, a button there, a notice to the old one.
    page.get_by_role("link", name="Changer mon adresse e-mail").click()
    check_page(page, "account-email")
    page.get_by_label("Nouvelle adresse e-mail").fill(new_email)
    page.get_by_label("Mot de passe actuel").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Envoyer le lien de confirmation").click()
    expect(page.locator(".flash")).to_contain_text(new_email)
    page.goto(server.link_in_mail(server.wait_for_mail(new_email), "/account/email/confirm"))
    expect(page.locator("main")).to_contain_text(new_email)
    check_page(page, "account-email-confirm")
    page.get_by_role("button", name="Utiliser cette adresse").click()
    expect(page.locator(".flash")).to_contain_text(f"Votre adresse e-mail est désormais {new_email}")
    server.wait_for_mail(email, count=2)  # the password notice, then the change notice

    # The data export downloads as a ZIP holding the account as it is now.
    page.goto("/account")
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger mes données").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == new_email
