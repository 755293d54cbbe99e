"""The home page's key figures counted the slow way: the code app.pages.home.key_figures ran
before migration 0042 (a scan of the public ideas and a UNION over the whole `vote` table), kept
here only as the tests' oracle (tests/pages/test_key_figures_tallies.py)."""

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.idea.models import Idea
from app.idea.queries import public_condition
from app.vote.models import Vote


def recount(session: Session) -> tuple[int, int, int]:
    """(public ideas, participants, supports on public ideas), counted from the rows."""
    ideas, supports = session.exec(
        select(func.count(), func.coalesce(func.sum(Idea.vote_count), 0)).select_from(Idea).where(public_condition())
    ).one()
    authors: sa.Select[tuple[int]] = sa.select(col(Idea.author_id).label("person")).where(public_condition(),
                                                                    col(Idea.author_id).is_not(None))
    voters: sa.Select[tuple[int]] = sa.select(col(Vote.user_id).label("person"))
    people = sa.union(authors, voters).subquery()
    participants = session.exec(select(func.count()).select_from(people)).one()
    return int(ideas), int(participants), int(supports)
