"""Moderation records: the append-only audit log and moderator assignments per call.

(A restored item is not hidden again by old reports because restoring resolves the open
reports on it, see app.report.models.Report.resolved_at: only new, open reports count.)"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class AuditAction(StrEnum):
    approve = "approve"
    request_changes = "request_changes"
    reject = "reject"
    hide = "hide"
    restore = "restore"
    merge = "merge"
    answer = "answer"
    shortlist = "shortlist"
    winner = "winner"
    jury_note = "jury_note"
    selection = "selection"
    publish_results = "publish_results"
    ban = "ban"
    unban = "unban"
    role_change = "role_change"
    assign_moderator = "assign_moderator"
    unassign_moderator = "unassign_moderator"
    hold = "hold"  # by the system: a new account posted a link (app.moderation.spam)
    account_deleted = "account_deleted"  # by the person themself (app.account.privacy)


class TargetType(StrEnum):
    idea = "idea"
    comment = "comment"
    user = "user"
    call = "call"


class AuditEntry(SQLModel, table=True):
    """One moderator or administrator decision. Written once, never updated nor deleted by
    the application: there is no code path that changes a row (see service.record)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_target", "target_type", "target_id"),
        sa.Index("ix_audit_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    action: str = Field(sa_type=sa.String(40), index=True)
    target_type: str = Field(sa_type=sa.String(20))
    target_id: int
    # Plain text, escaped on output: the why of the decision.
    reason: str = Field(default="", sa_type=sa.Text)
    from_status: str | None = Field(default=None, sa_type=sa.String(30))
    to_status: str | None = Field(default=None, sa_type=sa.String(30))
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    """A guard behind the rule: an entry loaded and changed, or deleted, never reaches the database."""
    raise PermissionError(f"audit entry {target.id} is append-only")


class ModeratorAssignment(SQLModel, table=True):
    """A moderator in charge of a call. A call without any assignment is open to every
    moderator; once someone is assigned, only they (and administrators) moderate it."""

    __tablename__ = "moderator_assignment"
    __table_args__ = (sa.UniqueConstraint("call_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)

