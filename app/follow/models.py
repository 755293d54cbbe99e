"""Who follows which idea, to hear about what happens to it."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Follow(SQLModel, table=True):
    __tablename__ = "follow"
    __table_args__ = (sa.UniqueConstraint("idea_id", "user_id", name="uq_follow_idea_user"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
