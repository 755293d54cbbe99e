"""Verified residents in a real browser (issue 13): the administrators' rules page, a call that
keeps its votes for verified residents, a person verified by signing in at a real OpenID
provider (oidc-provider on loopback, tests/support_oidc.py) and supporting an idea, another
who is not told how to get verified, and the moderators' badge.

This module runs a server of its own (with its own database): the provider must know the
platform's callback, so the platform's port is chosen first."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.account.models import User
from app.residents import service as residents
from tests.e2e.conftest import running_server
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea
from tests.support import free_port
from tests.support_oidc import FULL_SCOPES, KEY, running_provider

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    port = free_port()
    with running_provider(KEY, "Ville ID", FULL_SCOPES, f"http://127.0.0.1:{port}") as provider, \
            running_server(tmp_path_factory.mktemp("e2e-residents"), port=port, suffix="e2e_residents",
                           oidc_providers=[provider.setting()]) as running:
        yield running


def sign_in_with_provider(page: Page, login: str) -> None:
    """The login page's provider button, the provider's own login form, and back."""
    page.goto("/account/login")
    page.get_by_role("button", name=re.compile("Ville ID")).click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    with page.expect_navigation(url=re.compile(r"^http://127\.0\.0\.1:\d+/(?!auth|interaction)")):
        page.get_by_role("button", name="Sign-in").click()


def test_rules_page_resident_vote_and_badge(server: E2EServer, context: BrowserContext, page: Page,
                                            new_page) -> None:  # type: ignore[no-untyped-def]
    admin = server.create_user(role="admin")
    moderator = server.create_user(role="moderator")
    login_as(context, server, admin)
    page.goto("/admin/residents")
    check_page(page, "residents-rules")
    page.get_by_label("Codes postaux de la ville").fill("4000, 40!0")
    page.get_by_label("Âge minimum (ans)").fill("16")
    page.get_by_role("button", name="Ajouter la règle").click()
    expect(page.locator("#form-errors")).to_contain_text("Indiquez des codes postaux séparés par des virgules")
    check_page(page, "residents-rules-errors")
    page.get_by_label("Codes postaux de la ville").fill("4000, 4020, 4030")
    page.get_by_role("button", name="Ajouter la règle").click()
    expect(page.locator(".flash")).to_contain_text("La règle est enregistrée.")
    expect(page.get_by_role("heading", name="Règle 1 · Ville ID")).to_be_visible()
    check_page(page, "residents-rules-saved")

    with server.session() as s:
        call = make_call(s, phase="voting", submit_access="residents", vote_access="residents",
                         title="Budget participatif des quartiers")
        idea = make_idea(s, call, title="Des bancs à l’ombre place du Marché")
        s.commit()
        slug, idea_id = call.slug, idea.id

    # Alice lives in 4000: verified by signing in, she supports the idea.
    alice = new_page()
    alice.goto(f"/calls/{slug}")
    expect(alice.locator(".call-rules")).to_contain_text("les résidents vérifiés de la ville uniquement")
    check_page(alice, "call-residents-only")
    sign_in_with_provider(alice, "alice")
    expect(alice.locator(".flashes")).to_contain_text("Bienvenue")
    expect(alice.locator(".flashes")).to_contain_text("Vous êtes maintenant un résident vérifié.")
    alice.goto("/account")
    expect(alice.locator("#residency-section")).to_contain_text("Vérifié avec Ville ID")
    check_page(alice, "profile-resident")
    alice.goto(f"/ideas/{idea_id}")
    alice.get_by_role("button", name="Soutenir cette idée").click()
    expect(alice.locator("#vote-count")).to_contain_text("1 soutien")

    # David lives in Brussels: signed in, but told how to get verified.
    david = new_page()
    sign_in_with_provider(david, "david")
    david.goto(f"/ideas/{idea_id}")
    expect(david.locator("#vote")).to_contain_text("Seuls les résidents vérifiés de la ville peuvent soutenir")
    check_page(david, "idea-residents-only")
    david.goto("/account")
    expect(david.get_by_role("button", name="Me faire vérifier avec Ville ID")).to_be_visible()
    check_page(david, "profile-not-resident")

    # Moderators see that an idea's author is a verified resident, and nothing of their claims.
    with server.session() as s:
        author = s.exec(select(User).where(User.email == "alice@example.org")).one()
        pending = make_idea(s, call, author, status="submitted", title="Un potager partagé rue Saint-Gilles")
        s.commit()
        pending_id = pending.id
        assert residents.is_resident(s, author)
    moderation = new_page()
    login_as(moderation.context, server, moderator)
    moderation.goto(f"/moderation/ideas/{pending_id}")
    expect(moderation.locator(".badge-resident")).to_have_text("Résident vérifié")
    expect(moderation.locator("main")).not_to_contain_text("4000")
    check_page(moderation, "moderation-idea-resident")
