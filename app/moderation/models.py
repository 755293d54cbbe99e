"""Moderation records: moderator assignments per call.

The audit log, which any domain may write to, is a kernel module (app.audit). A restored item
is not hidden again by old reports because restoring resolves the open reports on it, see
app.report.models.Report.resolved_at: only new, open reports count."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.audit import AuditEntry
from app.clock import utcnow

# Moderation is the reader of the audit log: its entry is importable from here too.
__all__ = ["AuditEntry", "DialogueTally", "ModeratorAssignment"]


class ModeratorAssignment(SQLModel, table=True):
    """A moderator in charge of a call. A call without any assignment is open to every
    moderator; once someone is assigned, only they (and administrators) moderate it."""

    __tablename__ = "moderator_assignment"
    __table_args__ = (sa.UniqueConstraint("call_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)



class DialogueTally(SQLModel, table=True):
    """The dialogue figures' sums over a share of one call's ideas (app.moderation.dialogue), kept by
    triggers of migration 0041 on every write of an idea, a comment, a role or an answer's audit
    entry: never written by the application. `call_id` has no foreign key: a call's deletion
    deletes its ideas, whose triggers still write its row (left at zero)."""

    __tablename__ = "dialogue_tally"

    call_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    # The idea's id modulo 64: a call's sums are spread over up to 64 rows (migration 0041, SHARDS).
    shard: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ideas: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # published and visible
    unanswered: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_under_study: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_accepted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_partly_accepted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_rejected: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_implemented: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    delays: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # answered, with answer_days
    commented_ideas: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # by citizens
    city_replied: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # ... and by staff
    staff_comments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
