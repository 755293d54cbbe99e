"""Every foundation page under every check of `check_page`, in French and English, logged out
and logged in: axe-core, the W3C validator (at the end), the phone layout, the JS budget."""

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, log_of, login_as, open_menu, unique_email, visit_and_check

pytestmark = pytest.mark.e2e

LANGUAGES = ("fr", "en")


def test_public_pages(page: Page) -> None:
    for path, name in (
        ("/", "home"),
        ("/account/register", "register"),
        ("/account/login", "login"),
        ("/account/password/forgot", "forgot"),
        ("/offline", "offline"),
    ):
        visit_and_check(page, path, name, LANGUAGES)


def test_dutch_and_german_layouts_hold(page: Page) -> None:
    # Longer words (German compounds) must not break the phone layout either.
    for path, name in (("/", "home"), ("/account/register", "register"), ("/account/login", "login")):
        visit_and_check(page, path, name, ("nl", "de"))


def test_error_and_expired_link_pages(page: Page) -> None:
    visit_and_check(page, "/no-such-page", "error-404", LANGUAGES, expect_status=404)
    visit_and_check(page, "/account/verify?token=expired", "verify-expired", LANGUAGES, expect_status=410)
    visit_and_check(page, "/account/password/reset?token=expired", "reset-expired", LANGUAGES, expect_status=410)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_forms_with_errors(page: Page, lang: str) -> None:
    page.goto(f"/account/register?lang={lang}")
    page.locator("main form button[type=submit]").click()
    assert page.locator("#form-errors").is_visible()
    check_page(page, "register-errors")

    page.goto("/account/login")
    page.locator("main form button[type=submit]").click()
    assert page.locator("[aria-invalid=true]").count() >= 1
    check_page(page, "login-errors")

    page.goto("/account/password/forgot")
    page.locator("main form input[type=email]").fill(unique_email())
    page.locator("main form button[type=submit]").click()
    check_page(page, "forgot-sent")


def test_too_many_attempts_page(page: Page) -> None:
    email = unique_email()
    page.goto("/account/login?lang=fr")
    for _attempt in range(6):
        page.locator("input[type=email]").fill(email)
        page.locator("input[type=password]").fill("not the password")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if log_of(page).document is not None and log_of(page).document.status == 429:  # type: ignore[union-attr]
            break
    assert log_of(page).document is not None and log_of(page).document.status == 429  # type: ignore[union-attr]
    check_page(page, "error-429")
    page.goto("/account/login?lang=en")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    check_page(page, "error-429")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_logged_in_pages(server: E2EServer, context: BrowserContext, page: Page, lang: str) -> None:
    user = server.create_user(display_name="Amélie Citoyenne", language=lang)
    login_as(context, server, user)
    page.goto(f"/?lang={lang}")
    open_menu(page)  # folded on a desktop narrower than 1440 px
    assert page.get_by_role("link", name="Amélie Citoyenne").is_visible()
    check_page(page, "home-logged-in")
    page.goto("/account")
    check_page(page, "profile")
    page.get_by_label(re.compile("Nom affiché|Name shown")).fill("x")
    page.get_by_role("button", name=re.compile("^(Enregistrer|Save)$")).click()
    assert page.locator("[aria-invalid=true]").is_visible()
    check_page(page, "profile-errors")
    visit_and_check(page, "/no-such-page", "error-404-logged-in", (lang,), expect_status=404)


def test_unverified_banner(server: E2EServer, context: BrowserContext, page: Page) -> None:
    user = server.create_user(verified=False)
    login_as(context, server, user)
    for lang in LANGUAGES:
        page.goto(f"/?lang={lang}")
        assert page.locator(".notice").is_visible()
        check_page(page, "home-unverified")
