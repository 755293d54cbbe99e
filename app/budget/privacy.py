"""What participatory budgets keep about a person: their ballots (the projects chosen, whether
and when the ballot was confirmed). Nobody else ever sees a person's ballot; the results show
counts only. At deletion, ballots in calls not past voting are removed; those of calls past
voting stay, tied to the anonymised account, so that published results never change when a
voter leaves (as supports do: app.vote.privacy)."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account.models import User
from app.budget.models import Ballot, BallotItem
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.idea.privacy import idea_ref
from app.personal_data import Holding, when
from app.settings import Settings

OPEN_PHASES = (Phase.draft, Phase.submissions, Phase.technical_review, Phase.voting)


def export_ballots(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every ballot of `user`: its call, when it was confirmed (None: not confirmed) and the
    projects in it."""
    rows = session.exec(select(Ballot, Call).join(Call, col(Call.id) == Ballot.call_id)
                        .where(Ballot.user_id == user.id).order_by(col(Ballot.id))).all()
    result = []
    for ballot, call in rows:
        ideas = session.exec(select(BallotItem.idea_id).where(BallotItem.ballot_id == ballot.id)
                             .order_by(col(BallotItem.id))).all()
        result.append({"call": call.title, "confirmed_at": when(ballot.confirmed_at),
                       "updated_at": when(ballot.updated_at),
                       "projects": [idea_ref(session, user=user, base_url=base_url, idea_id=i) for i in ideas]})
    return result


def erase_ballots(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Remove the person's ballots in calls not past voting (their projects with them).
    Returns {"ballots_removed"}."""
    rows = session.exec(select(Ballot.id, Call).join(Call, col(Call.id) == Ballot.call_id)
                        .where(Ballot.user_id == user_id)).all()
    ids = [ballot_id for ballot_id, call in rows if current_phase(call) in OPEN_PHASES]
    if ids:
        session.execute(delete(BallotItem).where(col(BallotItem.ballot_id).in_(ids)))
        session.execute(delete(Ballot).where(col(Ballot.id).in_(ids)))
    return {"ballots_removed": len(ids)}


BALLOTS = Holding("ballots", export=export_ballots, erase=erase_ballots)
