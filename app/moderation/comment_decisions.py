"""Moderator decisions on comments: hiding and restoring, each audited with its reason.

A comment has no public status history: the audit entry is its only trace.
"""

from sqlmodel import Session

from app.account.models import User
from app.audit import AuditAction, AuditEntry, TargetType, record
from app.comment import hiding
from app.comment.models import Comment
from app.errors import InvalidTransition
from app.i18n import N_
from app.moderation.common import HISTORY_HIDDEN, clean_text
from app.moderation.report_decisions import resolve_reports


def hide_comment(session: Session, *, actor: User, comment: Comment, reason: str) -> AuditEntry:
    """Hide a visible comment and close its open reports; return the audit entry.

    Raises ValidationFailed ("reason": missing or too long) or InvalidTransition (already hidden)."""
    reason = clean_text(reason, field="reason", required=True)
    session.refresh(comment, with_for_update=True)
    if comment.hidden_at is not None:
        raise InvalidTransition(N_("This comment is already hidden."))
    assert comment.id is not None
    hiding.hide(session, [comment.id])  # out of its idea's comment count too
    resolved = resolve_reports(session, target_type=TargetType.comment, target_id=comment.id, actor=actor,
                               resolution="hidden")
    return record(session, actor=actor, action=AuditAction.hide, target_type=TargetType.comment,
                  target_id=comment.id, reason=reason, from_status="visible", to_status=HISTORY_HIDDEN,
                  details={"idea_id": comment.idea_id, "reports_resolved": resolved})


def restore_comment(session: Session, *, actor: User, comment: Comment, reason: str = "") -> AuditEntry:
    """Show a hidden comment again, reset its report counter and close its open reports; return
    the audit entry. Raises ValidationFailed ("reason" too long) or InvalidTransition (not hidden)."""
    reason = clean_text(reason, field="reason", required=False)
    session.refresh(comment, with_for_update=True)
    if comment.hidden_at is None:
        raise InvalidTransition(N_("This comment is not hidden."))
    assert comment.id is not None
    hiding.show(session, comment.id)  # counted again in its idea's comment count
    comment.report_count = 0
    session.add(comment)
    resolved = resolve_reports(session, target_type=TargetType.comment, target_id=comment.id, actor=actor,
                               resolution="restored")
    return record(session, actor=actor, action=AuditAction.restore, target_type=TargetType.comment,
                  target_id=comment.id, reason=reason, from_status=HISTORY_HIDDEN, to_status="visible",
                  details={"idea_id": comment.idea_id, "reports_resolved": resolved})
