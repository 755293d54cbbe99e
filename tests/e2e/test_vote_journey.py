"""Votes and comments in a real browser: in place with JavaScript, accessible, checked pages."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


def test_citizen_supports_and_comments_in_place(server: E2EServer, context: BrowserContext, page: Page) -> None:
    citizen = server.create_user(display_name="Inès Votante")
    with server.session() as s:
        call = make_call(s, phase="voting", votes_per_citizen=3)
        idea = make_idea(s, call, title="Des fontaines à eau potable")
        s.commit()
        idea_id = idea.id
    login_as(context, server, citizen)
    page.goto(f"/ideas/{idea_id}")
    check_page(page, "idea-vote-panel")

    page.get_by_role("button", name="Soutenir cette idée").click()
    withdraw = page.get_by_role("button", name="Retirer mon soutien")
    expect(withdraw).to_be_visible()
    expect(page.locator("[data-vote-count]")).to_have_text("1 soutien")
    expect(page.locator("[data-votes-left]")).to_have_text("Il vous reste 2 soutiens dans cet appel.")
    assert page.url.endswith(f"/ideas/{idea_id}")  # no page load: updated in place
    withdraw.click()
    expect(page.get_by_role("button", name="Soutenir cette idée")).to_be_visible()
    expect(page.locator("[data-vote-count]")).to_have_text("0 soutien")

    page.get_by_label("Votre commentaire").fill("Oui, surtout près des **plaines de jeux**.")
    page.get_by_role("button", name="Publier mon commentaire").click()
    expect(page.locator("#comment-list strong", has_text="plaines de jeux")).to_be_visible()
    expect(page.locator("#comment-status")).to_have_text("Votre commentaire est publié.")
    check_page(page, "idea-comments")

    comment_id = page.locator("#comment-list article").first.get_attribute("id").removeprefix("comment-")
    page.goto(f"/ideas/{idea_id}/comments/new?reply_to={comment_id}")
    check_page(page, "comment-reply-form")
    page.goto(f"/comments/{comment_id}/edit")
    check_page(page, "comment-edit-form")
    page.goto(f"/ideas/{idea_id}/report")
    check_page(page, "report-form")
    page.get_by_label("Autre chose").check()
    page.get_by_role("button", name="Envoyer mon signalement").click()
    expect(page.locator("#form-errors")).to_contain_text("Veuillez nous dire brièvement ce qui ne va pas.")
    check_page(page, "report-form-errors")
    page.goto("/notifications")
    check_page(page, "notifications")
    page.goto("/notifications/preferences")
    check_page(page, "notification-preferences")
    page.goto("/notifications/unsubscribe/not-a-token")
    check_page(page, "unsubscribe-invalid")


def test_voting_works_without_javascript(server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Sans Script")
    with server.session() as s:
        call = make_call(s, phase="voting")
        idea_id = make_idea(s, call).id
        s.commit()
    context = new_context(java_script_enabled=False)
    login_as(context, server, citizen)
    page = context.new_page()
    page.goto(f"/ideas/{idea_id}")
    page.get_by_role("button", name="Soutenir cette idée").click()
    expect(page.get_by_role("button", name="Retirer mon soutien")).to_be_visible()
    expect(page.locator(".flash-success")).to_have_text("Merci\u202f! Vous soutenez cette idée.")
    assert f"/ideas/{idea_id}" in page.url


def test_following_and_email_choices_are_visible_and_work_without_javascript(
        server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Sans Script Qui Suit")
    with server.session() as s:
        call = make_call(s, phase="voting")
        idea_id = make_idea(s, call).id
        s.commit()
    context = new_context(java_script_enabled=False)
    login_as(context, server, citizen)
    page = context.new_page()
    page.goto(f"/ideas/{idea_id}")
    page.get_by_role("button", name="Soutenir cette idée").click()
    # Supporting is not following: the choice is still offered, and hers to make.
    follow = page.get_by_role("button", name="Suivre cette idée")
    expect(follow).to_be_visible()
    follow.click()
    expect(page.locator(".follow-state")).to_contain_text("Vous suivez cette idée")
    page.get_by_role("link", name="Comment je les reçois").click()
    group = page.get_by_role("group", name="Nouveaux commentaires sur les idées que je suis")
    expect(group.get_by_label("Immédiatement")).to_be_checked()
    group.get_by_label("Récapitulatif quotidien").check()
    page.get_by_role("group", name="Résultats des appels auxquels j’ai participé").get_by_label("Aucun e-mail").check()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_role("group", name="Nouveaux commentaires sur les idées que je suis")
           .get_by_label("Récapitulatif quotidien")).to_be_checked()
