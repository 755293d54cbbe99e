"""Similar ideas while a new idea is typed (issue 12), in a real browser: static/js/similar.js
fills the polite live region from search:similar as the title is typed, under the CSP; and the
form stays checked (axe-core, the validator) with the list shown."""

import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.search import indexing
from tests.e2e.harness import E2EServer, check_page, log_of, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


def test_similar_ideas_appear_as_the_title_is_typed(server: E2EServer, context: BrowserContext, page: Page) -> None:
    citizen = server.create_user(display_name="Léon Vélo")
    with server.session() as s:
        call = make_call(s, slug=f"velo-{uuid.uuid4().hex[:6]}", phase="submissions")
        existing = make_idea(s, call, title="Pistes cyclables sécurisées rue Léopold", vote_count=3)
        indexing.rebuild(s)
        s.commit()
        slug, existing_id = call.slug, existing.id
    login_as(context, server, citizen)
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Titre").press_sequentially("Plus de pistes cyclables rue Léopold", delay=20)
    region = page.locator("#similar-ideas")
    expect(region.get_by_role("heading")).to_have_text("Idées semblables déjà proposées")
    expect(region.get_by_role("link", name="Soutenir plutôt celle-ci")).to_have_attribute(
        "href", f"/ideas/{existing_id}#vote")
    check_page(page, "idea-form-similar")
    page.get_by_label("Titre").fill("Pi")
    page.get_by_label("Titre").press("End")
    page.get_by_label("Titre").press_sequentially("x")
    expect(region).to_be_empty()
    assert not log_of(page).console_errors
