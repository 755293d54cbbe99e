"""What the votes domain keeps about a person: their supports. At deletion, supports in calls
still open to votes are withdrawn (counters follow); those of calls past voting stay, tied to
the anonymised account, so that published results never change when a voter leaves."""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.idea.models import Idea
from app.idea.privacy import idea_ref
from app.personal_data import Holding, when
from app.settings import Settings
from app.vote.models import Vote


def export_votes(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every support `user` gave, with the idea supported."""
    votes = session.exec(select(Vote).where(Vote.user_id == user.id).order_by(col(Vote.id))).all()
    return [{"idea": idea_ref(session, user=user, base_url=base_url, idea_id=v.idea_id),
             "created_at": when(v.created_at)} for v in votes]


def _ideas_still_voted_on(session: Session, user_id: int) -> list[int]:
    """The ideas this person voted for in calls that have not moved past voting."""
    rows = session.exec(
        select(Vote.idea_id, Call).join(Idea, col(Idea.id) == Vote.idea_id).join(Call, col(Call.id) == Idea.call_id)
        .where(Vote.user_id == user_id)
    ).all()
    open_phases = (Phase.draft, Phase.submissions, Phase.technical_review, Phase.voting)
    return [idea_id for idea_id, call in rows if current_phase(call) in open_phases]


def erase_votes(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Withdraw the person's supports in calls not past voting, each idea's counter with its row
    (one vote per idea: one UPDATE). Returns {"votes_withdrawn"}."""
    voted = [row[0] for row in session.execute(
        delete(Vote).where(col(Vote.user_id) == user_id, col(Vote.idea_id).in_(_ideas_still_voted_on(session, user_id)))
        .returning(col(Vote.idea_id))).all()]
    if voted:
        session.execute(update(Idea).where(col(Idea.id).in_(voted))
                        .values(vote_count=col(Idea.vote_count) - 1))
    return {"votes_withdrawn": len(voted)}


def ideas_supported(session: Session, *, user_id: int) -> list[int]:
    """The ideas `erase_votes` writes: those whose support it withdraws."""
    return _ideas_still_voted_on(session, user_id)


VOTES = Holding("votes", export=export_votes, erase=erase_votes, ideas=ideas_supported)
