"""A citizen's account journey in a real browser, e-mails through the real SMTP server."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    E2EServer,
    assert_focus_visible,
    check_page,
    login,
    logout,
    open_menu,
    tab_to,
    unique_email,
)

pytestmark = pytest.mark.e2e

PASSWORD = "le pont des Arches au matin"


def test_register_verify_login_switch_language_logout(server: E2EServer, page: Page) -> None:
    email = unique_email("amelie")
    page.goto("/")
    check_page(page, "home")
    page.get_by_role("link", name="S’inscrire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Nom affiché publiquement").fill("Amélie Dupont")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultez votre boîte e-mail")
    expect(page.locator("main")).to_contain_text(email)
    check_page(page, "check-email")

    message = server.wait_for_mail(email)
    assert "Confirmez" in str(message["Subject"])
    page.goto(server.link_in_mail(message, "/account/verify"))
    check_page(page, "verify")
    page.get_by_role("button", name="Confirmer mon adresse e-mail").click()
    expect(page.locator(".flash")).to_contain_text("Votre adresse e-mail est confirmée")

    login(page, email, PASSWORD)
    expect(page.locator(".flash")).to_contain_text("Bienvenue, Amélie Dupont")
    open_menu(page)  # folded on a desktop narrower than 1440 px
    expect(page.get_by_role("link", name="Amélie Dupont")).to_be_visible()
    expect(page.locator(".notice")).to_have_count(0)  # verified: no reminder

    page.get_by_role("navigation", name="Langue").get_by_role("link", name=re.compile("English")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your ideas for the city")
    page.goto("/account")  # the choice is remembered
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    check_page(page, "profile")

    logout(page)
    expect(page.locator(".flash")).to_contain_text("You are logged out")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/account/login\?next=(%2F|/)account$"))


def test_forgotten_password_reset_through_the_email_link(server: E2EServer, page: Page) -> None:
    user = server.create_user(display_name="Jules Marchal")
    page.goto("/account/login")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_role("button", name="Envoyer le lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si un compte existe pour cette adresse")

    link = server.link_in_mail(server.wait_for_mail(user.email), "/account/password/reset")
    page.goto(link)
    check_page(page, "reset")
    page.get_by_label("Nouveau mot de passe").fill("court")
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    expect(page.locator("#f-password-error")).to_be_visible()
    page.get_by_label("Nouveau mot de passe").fill("une phrase que je retiens bien")
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    expect(page.locator(".flash")).to_contain_text("Votre mot de passe a été modifié")

    login(page, user.email, "une phrase que je retiens bien")
    open_menu(page)
    expect(page.get_by_role("link", name="Jules Marchal")).to_be_visible()

    page.goto(link)  # single use
    expect(page.locator("main")).to_contain_text("Ce lien n’est plus valable")


def test_registration_with_the_keyboard_alone(server: E2EServer, page: Page) -> None:
    email = unique_email("clavier")
    page.goto("/account/register")
    # The first Tab reaches the skip link, which takes the keyboard straight to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Adresse e-mail"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Nom affiché publiquement"))
    page.keyboard.type("Clavier Seul")
    visited = tab_to(page, page.get_by_label("Mot de passe"))
    assert len(visited) == 1, f"the password should follow the name: {visited}"
    page.keyboard.type("court")
    page.keyboard.press("Enter")
    # The error summary takes focus and says what to fix; its link leads to the field.
    expect(page.locator("#form-errors")).to_be_focused()
    page.keyboard.press("Tab")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type("une phrase assez longue pour passer")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultez votre boîte e-mail")
    server.wait_for_mail(email)
