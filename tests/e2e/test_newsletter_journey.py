"""The newsletter in a real browser: a visitor subscribes from the announcements page, confirms
with the e-mailed link's button, is told (not re-subscribed) when asking again, unsubscribes
from the link of that e-mail; a signed-in citizen manages their own subscription. Each page
checked (axe, phone layout, HTML validity)."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as, unique_email

pytestmark = pytest.mark.e2e


def test_a_visitor_subscribes_confirms_and_unsubscribes(server: E2EServer, page: Page) -> None:
    email = unique_email("lecteur")
    page.goto("/announcements")
    check_page(page, "newsletter-announcements")
    page.get_by_label("Les recevoir par e-mail").fill(email)
    page.locator("main").get_by_role("button", name="S’abonner").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte e-mail")).to_be_visible()
    check_page(page, "newsletter-check-email")

    page.goto(server.link_in_mail(server.wait_for_mail(email), "/newsletter/confirm/"))
    check_page(page, "newsletter-confirm")
    page.get_by_role("button", name="Confirmer mon abonnement").click()
    expect(page.get_by_text("Votre abonnement est confirmé")).to_be_visible()
    check_page(page, "newsletter-confirmed")

    page.goto("/newsletter")
    check_page(page, "newsletter-subscribe")
    page.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    page.locator("main").get_by_role("button", name="S’abonner").click()
    expect(page.locator(".form-errors")).to_be_visible()
    check_page(page, "newsletter-subscribe-errors")
    page.get_by_label("Adresse e-mail").fill(email)
    page.locator("main").get_by_role("button", name="S’abonner").click()
    notice = server.wait_for_mail(email, count=2)
    page.goto(server.link_in_mail(notice, "/newsletter/unsubscribe/"))
    check_page(page, "newsletter-unsubscribe")
    page.get_by_role("button", name="Se désabonner").click()
    expect(page.get_by_text("vous ne recevrez plus les annonces de la ville")).to_be_visible()
    check_page(page, "newsletter-unsubscribed")


def test_a_citizen_manages_their_subscription(server: E2EServer, context: BrowserContext, page: Page) -> None:
    citizen = server.create_user(display_name="Chloé")
    login_as(context, server, citizen)
    page.goto("/newsletter")
    page.locator("main").get_by_role("button", name="S’abonner").click()
    expect(page.locator(".flash-success")).to_contain_text("Vous êtes abonné·e")
    check_page(page, "newsletter-mine")
    page.get_by_label("Langue des e-mails").select_option("nl")
    page.get_by_role("button", name="Enregistrer la langue").click()
    expect(page.locator(".flash-success")).to_contain_text("La langue de vos e-mails est enregistrée.")
    page.get_by_role("button", name="Se désabonner").click()
    expect(page.locator(".flash-success")).to_contain_text("Vous êtes désabonné·e")
