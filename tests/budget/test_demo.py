"""The demonstration's participatory budget has costs, a budget, ballots and funded results
that agree with its published winners."""

from sqlmodel import Session, col, select

from app import demo
from app.budget import results
from app.budget.models import Ballot, IdeaReview
from app.call.models import Call
from app.db import Database
from app.idea.models import Idea
from app.settings import Settings
from app.vote.models import Vote
from tests.support import WebClient


def test_the_demo_budget_call_is_costed_voted_and_funded(db: Database, settings: Settings, session: Session,
                                                         client: WebClient) -> None:
    assert demo.seed(db, settings)
    session.expire_all()
    call = session.exec(select(Call).where(Call.slug == "budget-participatif-2025")).one()
    assert call.voting_mode == "budget"
    ideas = session.exec(select(Idea).where(Idea.call_id == call.id)).all()
    reviews = session.exec(select(IdeaReview).where(col(IdeaReview.idea_id).in_([i.id for i in ideas]))).all()
    assert len(reviews) == len(ideas) and sum(1 for r in reviews if r.cost_eur) == 4
    assert session.exec(select(Vote).where(Vote.call_id == call.id)).first() is None
    ballots = session.exec(select(Ballot).where(Ballot.call_id == call.id)).all()
    assert sum(1 for b in ballots if b.confirmed_at) == 10 and sum(1 for b in ballots if not b.confirmed_at) == 1

    computed = results.compute(session, call)
    assert (computed.total, computed.used, computed.left) == (300_000, 216_000, 84_000)
    funded = {i.title for i in ideas if i.id in computed.funded_ids()}
    assert funded == {i.title for i in ideas if i.winner}
    skipped = [r for r in computed.parts[0].rows if not r.funded]
    assert [r.project.cost for r in skipped] == [150_000, 95_000]  # the skatepark skipped, cheaper benches funded

    page = client.get(f"/calls/{call.slug}/budget-results")
    assert page.status_code == 200 and "Des bancs sur la place du Marché" in page.text
    assert "Voir les projets financés" in client.get(f"/calls/{call.slug}").text
