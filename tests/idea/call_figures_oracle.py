"""A call's figures counted the slow way: the code app.share.previews.call_figures ran before
migration 0044 (a scan of the call's public ideas), kept here only as the tests' oracle
(tests/idea/test_call_figures_tally.py) and the measure's (scripts/bench_key_figures.py --call)."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.idea.models import Idea
from app.idea.queries import CallFigures, public_condition


def recount(session: Session, call_id: int) -> CallFigures:
    """The public ideas of call `call_id`, the sum of their `vote_count`, those answered: counted."""
    ideas, supports, answered = session.exec(
        select(func.count(), func.coalesce(func.sum(Idea.vote_count), 0), func.count(col(Idea.answer_status)))
        .where(Idea.call_id == call_id, public_condition())
    ).one()
    return CallFigures(int(ideas), int(supports), int(answered))
