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
__all__ = ["AuditEntry", "ModeratorAssignment"]


class ModeratorAssignment(SQLModel, table=True):
    """A moderator in charge of a call. A call without any assignment is open to every
    moderator; once someone is assigned, only they (and administrators) moderate it."""

    __tablename__ = "moderator_assignment"
    __table_args__ = (sa.UniqueConstraint("call_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)

