"""Content in every language (issue 18), as an administrator translates a call: from the call's
administration page to its translation editor (each original beside its translation), a Dutch
title saved, then the call page read in Dutch shows it with no marker while its untranslated
description keeps its French with `lang="fr"` and "Origineel in het Frans". Both pages pass the
harness's checks. The demo call's translations are put back at the end: other journeys share
the server."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import col, select

from app.call.models import Call
from app.idea.models import Idea
from tests.e2e.harness import E2EServer, check_page, login_as

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_call(server: E2EServer) -> Iterator[Call]:
    with server.session() as s:
        call = s.exec(select(Call).where(col(Call.description_html) != "").order_by(col(Call.id))).first()
        assert call is not None
        saved = dict(call.translations or {})
        s.expunge(call)
    yield call
    with server.session() as s:
        row = s.get(Call, call.id)
        assert row is not None
        row.translations = saved
        s.add(row)
        s.commit()


def test_an_administrator_translates_a_call_and_a_dutch_reader_sees_it(
        server: E2EServer, context: BrowserContext, page: Page, demo_call: Call) -> None:
    admin = server.create_user(role="admin", display_name="Anne Administratrice")
    login_as(context, server, admin)
    page.goto(f"/admin/calls/{demo_call.id}")
    page.get_by_role("link", name="Traductions", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Traductions de")
    page.get_by_role("navigation", name="Langue de la traduction").get_by_role("link", name="Nederlands").click()
    title_field = page.locator(f"textarea[name='call.{demo_call.id}.title']")
    expect(title_field).to_have_attribute("lang", "nl")
    title_field.fill("Participatieve begroting van de stad")
    page.locator(f"textarea[name='call.{demo_call.id}.description_md']").fill("")
    check_page(page, "translation-editor")
    page.get_by_role("button", name="Enregistrer les traductions").click()
    expect(page.get_by_text("Les traductions sont enregistrées.")).to_be_visible()

    page.goto(f"/admin/calls/{demo_call.id}/translations/missing")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Traductions manquantes")
    check_page(page, "translations-missing")

    page.goto(f"/calls/{demo_call.slug}?lang=nl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Participatieve begroting van de stad")
    description = page.locator(".call-description .richtext")
    expect(description).to_have_attribute("lang", "fr")
    expect(page.locator(".call-description .original-language")).to_have_text("Origineel in het Frans")
    check_page(page, "call-in-dutch")
    page.goto("/?lang=fr")  # leave the interface in French for the journeys after this one


@pytest.fixture
def answered_idea(server: E2EServer) -> Iterator[int]:
    with server.session() as s:
        idea = s.exec(select(Idea).where(col(Idea.answer_status).is_not(None), col(Idea.hidden_at).is_(None))
                      .order_by(col(Idea.id))).first()
        assert idea is not None and idea.id is not None
        idea_id, saved = idea.id, dict(idea.answer_translations or {})
    yield idea_id
    with server.session() as s:
        row = s.get(Idea, idea_id)
        assert row is not None
        row.answer_translations = saved
        s.add(row)
        s.commit()


def test_a_moderator_translates_an_official_answer(
        server: E2EServer, context: BrowserContext, page: Page, answered_idea: int) -> None:
    admin = server.create_user(role="admin", display_name="Mona Modératrice")
    login_as(context, server, admin)
    page.goto(f"/moderation/ideas/{answered_idea}?lang=fr")
    section = page.locator(".answer-translations")
    expect(section.get_by_role("heading", level=2)).to_have_text("Traductions de la réponse officielle")
    section.get_by_label("Langue de la traduction").select_option("nl")
    section.get_by_label("Réponse traduite").fill("De stad **aanvaardt** dit idee.")
    section.get_by_role("button", name="Enregistrer la traduction").click()
    expect(page.get_by_text("La traduction de la réponse est enregistrée.")).to_be_visible()
    expect(page.locator("[data-answer-translation='nl']")).to_contain_text("De stad **aanvaardt** dit idee.")
    check_page(page, "answer-translations")
    page.goto(f"/ideas/{answered_idea}?lang=nl")
    expect(page.locator(".official-answer .richtext")).to_have_text("De stad aanvaardt dit idee.")
    check_page(page, "idea-answer-in-dutch")
    page.goto("/?lang=fr")
