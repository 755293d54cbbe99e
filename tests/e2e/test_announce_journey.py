"""Announcements in a real browser: a moderator drafts the results' announcement, previews it
per channel, confirms and publishes it; the public pages show it. Each page checked (axe,
phone layout, HTML validity)."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


def test_moderator_announces_the_results(server: E2EServer, context: BrowserContext, page: Page) -> None:
    moderator = server.create_user(role="moderator", display_name="Marc Modérateur")
    with server.session() as s:
        call = make_call(s, phase="results", title="Parc de la Boverie")
        make_idea(s, call, status="published", title="Des bancs à l'ombre")
        s.commit()
        call_id, slug = call.id, call.slug
    login_as(context, server, moderator)
    page.goto(f"/moderation/calls/{call_id}/review")
    page.get_by_role("button", name="Annoncer les résultats").click()
    expect(page.locator(".flash-success")).to_contain_text("Un brouillon a été rédigé")
    expect(page.get_by_text("1 idée de cet appel n’a pas encore de réponse officielle.")).to_be_visible()
    check_page(page, "announce-compose")

    page.locator("#f-text_fr").fill("Les résultats sont là 🎉 https://www.liege.be/fr/participation/boverie")
    page.get_by_role("button", name="Aperçu").click()
    expect(page.locator(".channel-counts").first).to_contain_text("Mastodon")
    page.get_by_role("button", name="Publier maintenant").click()
    expect(page.get_by_text("Cochez la case pour confirmer la publication des résultats.").first).to_be_visible()
    page.get_by_label("Je confirme que ces résultats sont définitifs et peuvent être annoncés.").check()
    page.get_by_role("button", name="Publier maintenant").click()
    expect(page.locator(".flash-success")).to_have_text("L’annonce est publiée.")

    page.goto("/moderation/announcements")
    check_page(page, "announce-manage")
    page.goto(f"/moderation/calls/{call_id}/announced-events")
    check_page(page, "announce-events")
    page.goto("/announcements")
    expect(page.get_by_text("Les résultats sont là 🎉").first).to_be_visible()
    check_page(page, "announce-list")
    page.get_by_role("link", name="Lien permanent").first.click()
    check_page(page, "announce-detail")
    page.goto(f"/calls/{slug}")
    expect(page.locator(".call-announcements")).to_contain_text("Les résultats sont là")
