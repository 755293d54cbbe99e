"""Closing reports: when an item is hidden or restored, and when its reports were unfounded."""

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.audit import AuditEntry, TargetType, record
from app.clock import utcnow
from app.comment.models import Comment
from app.errors import InvalidTransition
from app.i18n import N_
from app.idea.models import Idea
from app.report.models import Report


def resolve_reports(session: Session, *, target_type: str, target_id: int, actor: User, resolution: str) -> int:
    """Close the open reports on an item with `resolution` ("hidden", "restored", "dismissed");
    return how many were closed. Only reports made after this count again, which is how a
    restored item escapes being hidden again by the reports that hid it."""
    result = session.execute(
        update(Report)
        .where(col(Report.target_type) == target_type, col(Report.target_id) == target_id,
               col(Report.resolved_at).is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution=resolution)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def dismiss_reports(session: Session, *, actor: User, target_type: str, target_id: int) -> AuditEntry:
    """The reports on a visible item (a TargetType idea or comment) were unfounded: close them and
    reset the item's report counter, change nothing else; return the audit entry.

    Raises InvalidTransition when the item has no open report."""
    resolved = resolve_reports(session, target_type=target_type, target_id=target_id, actor=actor,
                               resolution="dismissed")
    if not resolved:
        raise InvalidTransition(N_("There are no open reports on this item."))
    if target_type == TargetType.idea:
        session.execute(update(Idea).where(col(Idea.id) == target_id).values(report_count=0))
    else:
        session.execute(update(Comment).where(col(Comment.id) == target_id).values(report_count=0))
    return record(session, actor=actor, action="dismiss_reports", target_type=target_type, target_id=target_id,
                  details={"reports_resolved": resolved})


def open_report_count(session: Session, target_type: str, target_id: int) -> int:
    """How many reports on the item wait for a moderator."""
    return int(session.exec(
        select(func.count()).select_from(Report).where(
            Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None))
    ).one())
