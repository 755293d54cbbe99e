"""A visitor's journey from the home page to "I supported my 3 ideas in this theme", at a
phone's size and a desktop's (issue 15): the home page, a call's rules, registering with the
e-mail confirmed, supporting from the cards in place, a fourth refused with the rule's message,
a support withdrawn from its card. Every page passes the harness's checks; screenshots at both
sizes are kept in test-artifacts/screenshots/."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.call.models import VoteScope
from app.clock import utcnow
from tests.e2e.harness import DESKTOP, MOBILE, SCREENSHOTS, E2EServer, check_page, log_of, login, login_as, unique_email
from tests.factories import DEFAULT_PASSWORD, make_call, make_category, make_idea

pytestmark = pytest.mark.e2e


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot at the page's current size (check_page keeps the phone's)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_visitor_to_three_supports_in_a_theme(server: E2EServer, page: Page, size: str) -> None:
    page.set_viewport_size(MOBILE if size == "phone" else DESKTOP)
    slug = f"liege-velo-{size}"
    with server.session() as s:
        call = make_call(s, slug=slug, title=f"Liège à vélo ({size})", phase="voting",
                         vote_scope=VoteScope.category, votes_per_citizen=3,
                         review_start=utcnow() + timedelta(days=3, hours=2),
                         summary="Vos idées pour circuler à vélo dans la ville.")
        mobility = make_category(s, call, name="Mobilité")
        greenery = make_category(s, call, name="Verdure")
        titles = ["Des arceaux devant les écoles", "Une piste cyclable quai de la Batte",
                  "Des vélos partagés à Outremeuse", "Un atelier de réparation gratuit"]
        ids = [make_idea(s, call, title=t, category=mobility).id for t in titles]
        make_idea(s, call, title="Des arbres rue Féronstrée", category=greenery)
        s.commit()

    # The home page: figures, the open call with its time left, how it works.
    page.goto("/")
    expect(page.locator(".key-figures")).to_be_visible()
    expect(page.locator(".home-calls")).to_contain_text("3 jours pour voter")
    expect(page.get_by_role("heading", name="Comment ça marche")).to_be_visible()
    check_page(page, f"cards-home-visitor-{size}")
    shoot(page, f"cards-home-visitor-{size}-fr")

    # The call page: its rules at the top.
    page.get_by_role("link", name=f"Liège à vélo ({size})").click()
    rules = page.locator(".call-rules")
    expect(rules).to_contain_text("Chaque personne peut soutenir jusqu’à 3 idées par thème.")
    expect(rules).to_contain_text("3 jours pour voter")
    check_page(page, f"cards-call-visitor-{size}")
    shoot(page, f"cards-call-visitor-{size}-fr")

    # Registering, from the call's invitation to log in.
    rules.get_by_role("link", name="Se connecter pour soutenir des idées").click()
    page.get_by_role("link", name="Créer un compte").click()
    email = unique_email(f"cycliste-{size}")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Nom affiché publiquement").fill("Camille Cycliste")
    page.get_by_label("Mot de passe").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultez votre boîte e-mail")
    page.goto(server.link_in_mail(server.wait_for_mail(email), "/account/verify"))
    page.get_by_role("button", name="Confirmer mon adresse e-mail").click()
    expect(page.locator(".flash")).to_contain_text("Votre adresse e-mail est confirmée")
    login(page, email)
    expect(page.locator(".home-mine")).to_contain_text("Mobilité\u202f: 3 soutiens restants")
    check_page(page, f"cards-home-citizen-{size}")
    shoot(page, f"cards-home-citizen-{size}-fr")
    page.goto(f"/calls/{slug}")
    expect(page.locator('.call-rules [data-left-bucket]').first).to_have_text("Il vous reste 3 soutiens dans ce thème.")
    check_page(page, f"cards-call-citizen-{size}")

    # Three supports from the cards, in place: counts and "N left" change, no page load.
    for n, idea_id in enumerate(ids[:3], start=1):
        card = page.locator(f"#card-{idea_id}")
        card.get_by_role("button", name="Soutenir").click()
        expect(card.get_by_role("button", name="Retirer mon soutien")).to_be_visible()
        expect(card.locator("[data-card-count]")).to_have_text("1 soutien")
        expect(card.get_by_role("status")).to_have_text("Merci ! Vous soutenez cette idée.")
        left = 3 - n
        sentence = f"Il vous reste {left} soutien{'s' if left > 1 else ''} dans ce thème."
        expect(page.locator(f"#card-{ids[3]} .card-left")).to_have_text(sentence)
    assert page.url.endswith(f"/calls/{slug}")

    # A fourth in the same theme: refused with the rule's message, nothing counted.
    fourth = page.locator(f"#card-{ids[3]}")
    fourth.get_by_role("button", name="Soutenir").click()
    expect(fourth.get_by_role("status")).to_have_text(
        "Vous avez utilisé tous vos soutiens pour ce thème (3). Retirez-en un pour soutenir cette idée.")
    expect(fourth.locator("[data-card-count]")).to_have_text("0 soutien")
    # The browser logs the refusal's 409 as a failed resource: expected here, nothing else is.
    log = log_of(page)
    log.console_errors = [e for e in log.console_errors if "status of 409" not in e]
    check_page(page, f"cards-call-refused-{size}")
    shoot(page, f"cards-call-refused-{size}-fr")

    # Withdrawing one from its card frees a place.
    first = page.locator(f"#card-{ids[0]}")
    first.get_by_role("button", name="Retirer mon soutien").click()
    expect(first.get_by_role("button", name="Soutenir")).to_be_visible()
    expect(first.locator("[data-card-count]")).to_have_text("0 soutien")
    expect(first.get_by_role("status")).to_have_text("Votre soutien est retiré.")
    expect(fourth.locator(".card-left")).to_have_text("Il vous reste 1 soutien dans ce thème.")

    # After a reload the page says the same: the server agrees with what was shown.
    page.reload()
    expect(page.locator(f"#card-{ids[1]}").get_by_role("button", name="Retirer mon soutien")).to_be_visible()
    expect(page.locator(f"#card-{ids[0]} [data-card-count]")).to_have_text("0 soutien")
    check_page(page, f"cards-call-after-{size}")
    shoot(page, f"cards-call-after-{size}-fr")


def test_cards_work_without_javascript(server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Sans Script Cycliste")
    with server.session() as s:
        call = make_call(s, slug="velo-sans-script", phase="voting", vote_scope=VoteScope.category,
                         votes_per_citizen=1)
        theme = make_category(s, call, name="Mobilité")
        first, second = (make_idea(s, call, title=t, category=theme).id for t in ("Des bancs", "Des fontaines"))
        s.commit()
    context = new_context(java_script_enabled=False, viewport=MOBILE)
    login_as(context, server, citizen)
    page = context.new_page()
    page.goto("/calls/velo-sans-script?sort=newest")
    page.locator(f"#card-{first}").get_by_role("button", name="Soutenir").click()
    assert page.url.endswith(f"/calls/velo-sans-script?sort=newest#card-{first}")
    expect(page.locator(".flash-success")).to_have_text("Merci ! Vous soutenez cette idée.")
    expect(page.locator(f"#card-{first} [data-card-count]")).to_have_text("1 soutien")
    page.locator(f"#card-{second}").get_by_role("button", name="Soutenir").click()
    expect(page.locator(".flash-error")).to_contain_text("Vous avez utilisé tous vos soutiens pour ce thème (1).")
    check_page(page, "cards-call-nojs-refused")
    page.locator(f"#card-{first}").get_by_role("button", name="Retirer mon soutien").click()
    expect(page.locator(".flash-success")).to_have_text("Votre soutien est retiré.")
    expect(page.locator(f"#card-{first} [data-card-count]")).to_have_text("0 soutien")
