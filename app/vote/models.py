"""Votes: one citizen's support for one idea."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Vote(SQLModel, table=True):
    __tablename__ = "vote"
    # One person, one vote per idea: the database says no to a second one, whatever the race.
    __table_args__ = (
        sa.UniqueConstraint("idea_id", "user_id", name="uq_vote_idea_user"),
        sa.Index("ix_vote_user_call", "user_id", "call_id", "category_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    # Copied from the idea so that limits are counted without a join.
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE")
    category_id: int | None = Field(default=None, foreign_key="category.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
