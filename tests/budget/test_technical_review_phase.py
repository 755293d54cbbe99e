"""A participatory budget's technical review is a phase of its own, between submissions and
voting: citizens see it on the call page with what happens in it, moderators cost ideas during
it, no idea is proposed and no ballot filled meanwhile, and only feasible, costed ideas reach
the vote. A call voting with supports has no such phase."""

from datetime import timedelta

from sqlmodel import Session

from app.budget.models import IdeaReview
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from tests.budget.helpers import editor_form, make_budget_call, make_project
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

EXPLAINED = ("Les services de la ville vérifient que chaque idée est réalisable et estiment son coût, avec une "
             "explication publique. Seules les idées réalisables et chiffrées vont au vote.")


def in_technical_review(call: Call) -> Call:
    """Submissions closed an hour ago, voting opens in two days."""
    now = utcnow()
    call.submissions_start = now - timedelta(days=20)
    call.technical_review_start = now - timedelta(hours=1)
    call.voting_start = now + timedelta(days=2)
    return call


def test_citizens_see_the_technical_review_phase_and_what_happens_in_it(client: WebClient,
                                                                        session: Session) -> None:
    call = in_technical_review(make_budget_call(session, phase="submissions"))
    session.add(call)
    supports_call = in_technical_review(make_call(session, phase="submissions"))  # the date means nothing here
    session.add(supports_call)
    session.commit()
    assert current_phase(call) == Phase.technical_review
    assert current_phase(supports_call) == Phase.submissions

    page = client.get(f"/calls/{call.slug}").text
    assert '<span class="tag">Analyse technique</span>' in page
    assert page.count(EXPLAINED) == 2  # under the phase in the rules, and in the timeline
    assert 'aria-current="step"' in page.split("Analyse technique</span>")[-2].rsplit("<li", 1)[-1]
    assert "Proposer une idée" not in page  # submissions are over

    other = client.get(f"/calls/{supports_call.slug}").text
    assert "Analyse technique" not in other and EXPLAINED not in other


def test_moderators_cost_ideas_during_the_phase_and_only_feasible_costed_ones_reach_the_vote(
        client: WebClient, session: Session) -> None:
    call = in_technical_review(make_budget_call(session, phase="submissions", total=1000))
    session.add(call)
    idea = make_idea(session, call, title="Un kiosque au parc")
    refused = make_idea(session, call, title="Un téléphérique")
    uncosted = make_idea(session, call, title="Pas encore analysée")
    moderator = make_user(session, role="moderator")
    voter = make_user(session)
    session.commit()

    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/technical-review",
                         {"feasible": "yes", "cost": "400", "explanation": "Devis du service"}).status_code == 303
    assert client.submit(f"/moderation/ideas/{refused.id}/technical-review",
                         {"feasible": "no", "reason": "Hors compétence communale"}).status_code == 303
    session.expire_all()
    assert session.get(IdeaReview, idea.id).cost_eur == 400  # type: ignore[union-attr]

    # No ballot before voting opens, even for the costed idea.
    client.cookies.clear()
    client.login_as(voter)
    base = f"/calls/{call.slug}/ballot"
    assert client.submit(f"{base}/add", {"idea_id": str(idea.id)}).status_code in (303, 409)
    assert "Ajouter à mon bulletin" not in client.get(base).text

    call.voting_start = utcnow() - timedelta(minutes=1)
    session.add(call)
    session.commit()
    page = client.get(base).text
    assert "Un kiosque au parc" in page
    assert "Un téléphérique" not in page and uncosted.title not in page
    assert client.submit(f"{base}/add", {"idea_id": str(idea.id)}).status_code == 303
    assert client.submit(f"{base}/add", {"idea_id": str(refused.id)}).status_code == 403


def test_the_phase_is_set_on_the_call_editor_for_a_participatory_budget_only(client: WebClient,
                                                                            session: Session) -> None:
    budget_call = make_budget_call(session, phase="submissions", total=1000)
    make_project(session, budget_call, 100)
    supports_call = make_call(session, phase="submissions")
    admin = make_user(session, role="admin")
    session.commit()
    client.login_as(admin)
    start = (utcnow() + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M")  # between submissions and voting

    refused = client.submit(f"/admin/calls/{supports_call.id}",
                            editor_form(supports_call, technical_review_start=start))
    assert refused.status_code == 422 and "Seul un budget participatif a une phase d’analyse technique" \
        in refused.text.replace("&#39;", "’")
    by_hand = client.submit(f"/admin/calls/{supports_call.id}",
                            editor_form(supports_call, phase_override="technical_review"))
    assert by_hand.status_code == 422
    session.expire_all()
    assert session.get(Call, supports_call.id).technical_review_start is None  # type: ignore[union-attr]

    # Out of order: the technical review comes after submissions and before voting.
    late = (budget_call.voting_start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")  # type: ignore[operator]
    assert client.submit(f"/admin/calls/{budget_call.id}",
                         editor_form(budget_call, technical_review_start=late)).status_code == 422
    saved = client.submit(f"/admin/calls/{budget_call.id}", editor_form(budget_call, technical_review_start=start))
    assert saved.status_code == 303
    session.expire_all()
    fresh = session.get(Call, budget_call.id)
    assert fresh is not None and fresh.technical_review_start is not None
    assert "Début de l’analyse technique" in client.get(f"/admin/calls/{budget_call.id}").text.replace("&#39;", "’")
