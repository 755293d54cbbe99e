"""The assistant in a real browser: its page without the panel, answered by the demo's entries;
the conversation panel on another page, opened, used and closed with the keyboard alone; both
pass the accessibility and phone checks."""

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.assistant.models import AssistantQuestion
from app.clock import utcnow
from tests.e2e.harness import E2EServer, check_page, login_as, tab_to

pytestmark = pytest.mark.e2e


def test_the_assistant_page_answers_from_the_demo_entries(server: E2EServer, context: BrowserContext,
                                                          page: Page) -> None:
    page.goto("/assistant")
    check_page(page, "assistant")
    page.get_by_label("Votre question").fill("comment je fais verifier mon compte")
    page.get_by_role("button", name="Demander", exact=True).click()
    expect(page.locator(".assistant-result")).to_contain_text("Confirmez d’abord votre adresse e-mail")
    expect(page.locator(".assistant-source a")).to_have_attribute("href", re.compile(r"^/assistant/entries/\d+$"))
    check_page(page, "assistant-answer")
    page.get_by_label("Votre question").fill("quel temps fera-t-il demain à Liège")
    page.get_by_role("button", name="Demander", exact=True).click()
    expect(page.locator(".assistant-result")).to_contain_text("Je ne connais pas la réponse")
    expect(page.get_by_role("button", name="Demander à une personne")).to_be_visible()


def test_the_panel_works_with_the_keyboard_alone(server: E2EServer, context: BrowserContext, page: Page) -> None:
    page.goto("/calls")
    launcher = page.get_by_role("button", name="Une question ? Demandez à l’assistant")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    tab_to(page, launcher, max_tabs=80)
    page.keyboard.press("Enter")
    question = page.locator("#assistant-panel-q")
    expect(question).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    page.keyboard.type("Quand passe la collecte des déchets ?")
    page.keyboard.press("Enter")
    log = page.locator(".assistant-log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_contain_text("Intradel")
    expect(log.locator(".assistant-source a")).to_have_count(1)
    expect(question).to_be_focused()
    check_page(page, "assistant-panel")
    page.keyboard.press("Escape")
    expect(page.locator("#assistant-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_staff_pages_pass_the_checks(server: E2EServer, context: BrowserContext, page: Page) -> None:
    moderator = server.create_user(role="moderator")
    asker = server.create_user()
    with server.session() as s:
        s.add(AssistantQuestion(user_id=asker.id, text="Peut-on pique-niquer au parc d’Avroy ?", outcome="handed",
                                handed_at=utcnow()))
        s.commit()
    login_as(context, server, moderator)
    page.goto("/moderation/assistant/entries")
    expect(page.get_by_role("link", name="Comment faire vérifier mon compte ?")).to_be_visible()
    check_page(page, "assistant-entries")
    page.get_by_role("link", name="Où trouver la boîte à idées papier ?").click()
    page.get_by_role("link", name="Traduire cette réponse").click()
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_label("Question · Nederlands")).to_have_value("Waar vind ik de papieren ideeënbus?")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.get_by_label("Question · Deutsch")).to_have_value("")
    check_page(page, "assistant-entry-translations")
    page.goto("/moderation/assistant/entries/new")
    check_page(page, "assistant-entry-form")
    page.goto("/moderation/assistant")
    expect(page.get_by_text("Peut-on pique-niquer au parc d’Avroy ?")).to_be_visible()
    check_page(page, "assistant-queue")
    page.get_by_label("Votre réponse (Markdown)").fill("Oui, sur les pelouses.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("button", name="En faire une réponse de l’assistant")).to_be_visible()
