"""A participatory budget in a real browser: a citizen's ballot on a phone (add, see the money
left, confirm, change), in place with JavaScript and with plain forms without it; the staff's
pages and the published results pass the page checks."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlmodel import select

from app.budget.models import Ballot, BallotItem
from app.call.models import Call
from app.clock import utcnow
from tests.budget.helpers import make_budget_call, make_project
from tests.e2e.harness import MOBILE, E2EServer, check_page, login_as
from tests.factories import make_idea

pytestmark = pytest.mark.e2e


def _budget_call(server: E2EServer, phase: str = "voting") -> tuple[str, list[int]]:
    with server.session() as s:
        call = make_budget_call(s, total=100_000, phase=phase, min_projects=1)
        ideas = [make_project(s, call, cost, title=title) for cost, title in (
            (60_000, "Rénover la place Saint-Lambert"), (50_000, "Une piste cyclable quai de Rome"),
            (30_000, "Des fontaines à eau au parc d'Avroy"))]
        s.commit()
        return call.slug, [i.id for i in ideas if i.id is not None]


def test_citizen_fills_confirms_and_changes_a_ballot_on_a_phone(
        server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Léa Budget")
    slug, ids = _budget_call(server)
    context = new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    login_as(context, server, citizen)
    page = context.new_page()
    page.goto(f"/calls/{slug}/ballot")
    check_page(page, "budget-ballot-empty")

    page.locator(f"#project-{ids[0]}").get_by_role("button", name="Ajouter à mon bulletin").click()
    expect(page.locator("[data-ballot-status]")).to_contain_text("Le projet est dans votre bulletin")
    expect(page.locator(".ballot-budgets tbody td").nth(2)).to_have_text("40\u202f000\u00a0€")
    assert page.url.endswith(f"/calls/{slug}/ballot")  # in place: no page load
    # The cycle path no longer fits: the page says why, instead of offering the button.
    expect(page.locator(f"#project-{ids[1]} .ballot-why")).to_contain_text("il ne reste que 40\u202f000\u00a0€")
    check_page(page, "budget-ballot-filled")

    page.get_by_role("button", name="Confirmer mon bulletin").click()
    expect(page.locator(".ballot-confirmed")).to_contain_text("confirmé et compte")
    check_page(page, "budget-ballot-confirmed")

    # A change un-confirms the ballot: it must be confirmed again to count.
    page.locator(f"#project-{ids[2]}").get_by_role("button", name="Ajouter à mon bulletin").click()
    expect(page.locator(".ballot-unconfirmed")).to_be_visible()
    expect(page.locator(".ballot-budgets tbody td").nth(2)).to_have_text("10\u202f000\u00a0€")
    page.locator(f"#project-{ids[0]}").get_by_role("button", name="Retirer de mon bulletin").click()
    expect(page.locator(".ballot-budgets tbody td").nth(2)).to_have_text("70\u202f000\u00a0€")
    page.get_by_role("button", name="Confirmer mon bulletin").click()
    expect(page.locator(".ballot-confirmed")).to_be_visible()
    check_page(page, "budget-ballot-changed")


def test_the_ballot_works_without_javascript(server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Sans Script Budget")
    slug, ids = _budget_call(server)
    context = new_context(java_script_enabled=False, viewport=MOBILE)
    login_as(context, server, citizen)
    page = context.new_page()
    page.goto(f"/calls/{slug}/ballot")
    page.locator(f"#project-{ids[0]}").get_by_role("button", name="Ajouter à mon bulletin").click()
    expect(page.locator(f"#project-{ids[0]} .flash-success")).to_contain_text("Le projet est dans votre bulletin")
    expect(page.locator(".ballot-budgets tbody td").nth(2)).to_have_text("40\u202f000\u00a0€")
    page.get_by_role("button", name="Confirmer mon bulletin").click()
    expect(page.locator(".ballot-confirmed")).to_be_visible()


def test_staff_pages_and_published_results_pass_the_checks(
        server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    admin = server.create_user(role="admin", display_name="Adèle Admin")
    with server.session() as s:
        call = make_budget_call(s, phase="submissions")
        make_idea(s, call, title="Un kiosque à musique au parc de la Boverie")
        s.commit()
        call_id = call.id
    context = new_context()
    login_as(context, server, admin)
    page = context.new_page()
    page.goto(f"/admin/calls/{call_id}/budget")  # the former page leads to the call editor's own form
    expect(page.locator("#budget")).to_be_visible()
    check_page(page, "budget-settings")
    page.get_by_label("Budget de tout l’appel, en euros").fill("12,50")
    page.get_by_role("button", name="Enregistrer l’appel").click()
    expect(page.locator("#form-errors")).to_contain_text("Indiquez le budget")
    expect(page.get_by_label("Budget de tout l’appel, en euros")).to_have_value("12,50")
    check_page(page, "budget-settings-errors")

    page.goto(f"/moderation/calls/{call_id}/technical-review?todo=1")
    check_page(page, "budget-review-queue")
    page.get_by_label("Réalisable", exact=True).check()
    page.get_by_label("Coût estimé, en euros entiers").fill("25 000")
    page.get_by_label("Explication publique du coût").fill("Kiosque préfabriqué et pose")
    page.get_by_role("button", name="Enregistrer l’analyse").click()
    expect(page.locator(".review-queue")).to_contain_text("Toutes les idées sont analysées")

    page.goto("/calls/budget-participatif-2025/budget-results")
    check_page(page, "budget-results")
    expect(page.locator(".budget-skipped")).to_have_count(2)


def test_a_moderator_reviews_idea_after_idea_from_the_keyboard(
        server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    # After each save of the "not reviewed yet" queue, the focus is on the next idea's first
    # choice, so the review goes on without going back through the page with Tab. (A fragment in
    # the URL, such as "#queue", makes browsers skip autofocus: the HTML standard's "flush
    # autofocus candidates" stops when the document has a target element.)
    moderator = server.create_user(role="moderator", display_name="Marc Modération")
    with server.session() as s:
        call = make_budget_call(s, phase="submissions")
        ideas = [make_idea(s, call, title=f"Un banc rue numéro {n}") for n in range(3)]
        s.commit()
        call_id, ids = call.id, [i.id for i in ideas]
    context = new_context(viewport=MOBILE)
    login_as(context, server, moderator)
    page = context.new_page()
    page.goto(f"/moderation/calls/{call_id}/technical-review?todo=1")
    for idea_id in ids[:2]:
        expect(page.locator(f"#f-{idea_id}-yes")).to_be_focused()
        page.keyboard.press("Space")  # "Réalisable"
        page.keyboard.press("Tab")
        page.keyboard.type("3 000")
        page.keyboard.press("Tab")
        page.keyboard.type("Un banc en chêne posé")
        page.keyboard.press("Tab")  # the reason, left empty
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Enregistrer l’analyse").first).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(".flash-success").first).to_contain_text("est enregistrée")
    expect(page.locator(f"#f-{ids[2]}-yes")).to_be_focused()


def test_a_call_in_technical_review_and_a_ballot_put_over_the_budget_pass_the_checks(
        server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    with server.session() as s:
        call = make_budget_call(s, total=100_000, phase="submissions")
        now = utcnow()
        call.submissions_start, call.technical_review_start = now - timedelta(days=30), now - timedelta(days=1)
        call.voting_start = now + timedelta(days=6)
        call.review_start, call.results_start = now + timedelta(days=20), now + timedelta(days=30)
        call.closes_at = now + timedelta(days=60)
        s.add(call)
        s.commit()
        review_slug = call.slug
    context = new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"/calls/{review_slug}")
    expect(page.locator(".call-phase .tag")).to_have_text("Analyse technique")
    expect(page.locator(".rules-phase-explained")).to_contain_text("Seules les idées réalisables et chiffrées")
    expect(page.locator(".timeline-current .timeline-explanation")).to_be_visible()
    check_page(page, "budget-call-technical-review")

    # A restored project put this confirmed ballot at 110 000 € of 100 000 €: un-confirmed, as
    # app.budget.ballot.recheck leaves it, and the page says why.
    citizen = server.create_user(display_name="Noé Budget")
    slug, ids = _budget_call(server)
    with server.session() as s:
        call_id = s.exec(select(Call.id).where(Call.slug == slug)).one()
        ballot = Ballot(call_id=call_id, user_id=citizen.id or 0)
        s.add(ballot)
        s.flush()
        for idea_id in ids[:2]:
            s.add(BallotItem(ballot_id=ballot.id or 0, idea_id=idea_id))
        s.commit()
    login_as(context, server, citizen)
    page.goto(f"/calls/{slug}/ballot")
    expect(page.locator(".ballot-unconfirmed")).to_contain_text("il dépense plus que le budget")
    expect(page.get_by_role("button", name="Confirmer mon bulletin")).to_have_count(0)
    check_page(page, "budget-ballot-over")
