"""Comments on ideas, in threads of two levels."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow

# Authors may correct a comment for this long after posting it.
EDIT_WINDOW = timedelta(minutes=15)
MAX_LENGTH = 5000


class Comment(SQLModel, table=True):
    __tablename__ = "comment"
    __table_args__ = (sa.Index("ix_comment_idea_created", "idea_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    # The top-level comment of the thread (None for a top-level comment): threads have two levels.
    parent_id: int | None = Field(default=None, foreign_key="comment.id", index=True, ondelete="CASCADE")
    # The comment actually answered, which may be a reply itself ("in reply to ...").
    reply_to_id: int | None = Field(default=None, foreign_key="comment.id", ondelete="SET NULL")

    body_md: str = Field(default="", sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)  # sanitised at write (app.richtext)
    # The language the author wrote in (declared on the form, else detected: app.contentlang), or None.
    language: str | None = Field(default=None, sa_type=sa.String(2))

    created_at: datetime = Field(default_factory=utcnow)
    edited_at: datetime | None = None
    # A deleted comment keeps its place in the thread, without its text.
    deleted_at: datetime | None = None
    # Hidden by reports (pending review) or by a moderator.
    hidden_at: datetime | None = None
    report_count: int = 0
