"""Reports: a verified citizen flags an idea or a comment, once. After the call's threshold of
distinct reporters, the item is hidden pending review and the moderators are told. Hiding it is
the system's decision: it is audited without an actor, with the reason and the count.

The item's row is locked first (app.locks), so parallel reports of one item are counted
one after the other; the unique constraint refuses a second report by the same person.
"""

from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.account.models import User
from app.audit import REASON_REPORTED, AuditAction, TargetType, record
from app.call.models import Call
from app.clock import utcnow
from app.comment import hiding
from app.comment.models import Comment
from app.errors import Conflict, ValidationFailed
from app.i18n import N_
from app.idea.models import Idea
from app.locks import lock_comment, lock_idea
from app.notify import service as notify
from app.report.models import Report, ReportReason, ReportTarget
from app.search.queue import reindex_later
from app.settings import Settings

ALREADY_REPORTED = N_("You have already reported this. A moderator will look at it.")
DETAILS_MAX = 1000


def _clean(reason: str, details: str) -> tuple[str, str]:
    text = (details or "").strip()
    if reason not in set(ReportReason):
        raise ValidationFailed({"reason": N_("Please choose a reason.")})
    if len(text) > DETAILS_MAX:
        raise ValidationFailed({"details": N_("Please keep the explanation under 1000 characters.")})
    if reason == ReportReason.other and len(text) < 5:
        raise ValidationFailed({"details": N_("Please tell us briefly what is wrong.")})
    return reason, text


def has_reported(session: Session, *, target_type: str, target_id: int, user_id: int) -> bool:
    """Whether user `user_id` has already reported this idea or comment."""
    return session.exec(select(Report.id).where(
        Report.target_type == target_type, Report.target_id == target_id, Report.reporter_id == user_id
    )).first() is not None


def distinct_reporters(session: Session, *, target_type: str, target_id: int) -> int:
    """Distinct people with an open report on the item. A moderator who restores an item
    resolves its reports, so old reports never hide it again."""
    return int(session.exec(
        select(func.count(func.distinct(Report.reporter_id))).where(
            Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None))
    ).one())


def _record(session: Session, *, target_type: ReportTarget, target_id: int, idea_id: int, reporter: User,
            reason: str, details: str) -> None:
    if has_reported(session, target_type=target_type, target_id=target_id, user_id=reporter.id or 0):
        raise Conflict(ALREADY_REPORTED)
    try:
        session.execute(insert(Report).values(target_type=target_type, target_id=target_id, idea_id=idea_id,
                                              reporter_id=reporter.id, reason=reason, details=details,
                                              created_at=utcnow()))
    except IntegrityError as exc:
        raise Conflict(ALREADY_REPORTED) from exc


def report_idea(session: Session, settings: Settings, *, idea: Idea, call: Call, reporter: User, reason: str,
                details: str = "") -> bool:
    """Record the report; True if it made the idea hidden (moderators are then told)."""
    assert idea.id is not None
    reason, details = _clean(reason, details)
    lock_idea(session, idea.id)
    _record(session, target_type=ReportTarget.idea, target_id=idea.id, idea_id=idea.id, reporter=reporter,
            reason=reason, details=details)
    session.execute(update(Idea).where(col(Idea.id) == idea.id).values(report_count=col(Idea.report_count) + 1))
    threshold = max(call.report_threshold, 1)
    reporters = distinct_reporters(session, target_type=ReportTarget.idea, target_id=idea.id)
    if reporters < threshold:
        return False
    hidden = session.execute(update(Idea).where(col(Idea.id) == idea.id, col(Idea.hidden_at).is_(None))
                             .values(hidden_at=utcnow()))
    if not hidden.rowcount:  # type: ignore[attr-defined]
        return False
    session.refresh(idea)
    reindex_later(session, idea.id)
    # The system decided: audited without an actor, with why (a moderator's restore follows it).
    record(session, actor=None, action=AuditAction.hide, target_type=TargetType.idea, target_id=idea.id,
           reason=REASON_REPORTED, from_status=idea.status, to_status="hidden",
           details={"reporters": reporters, "threshold": threshold})
    notify.item_hidden(session, settings, idea=idea)
    return True


def report_comment(session: Session, settings: Settings, *, comment: Comment, idea: Idea, call: Call,
                   reporter: User, reason: str, details: str = "") -> bool:
    """Record the report; True if it made the comment hidden (moderators are then told)."""
    assert comment.id is not None and idea.id is not None
    reason, details = _clean(reason, details)
    lock_comment(session, comment.id)
    _record(session, target_type=ReportTarget.comment, target_id=comment.id, idea_id=idea.id,
            reporter=reporter, reason=reason, details=details)
    session.execute(update(Comment).where(col(Comment.id) == comment.id)
                    .values(report_count=col(Comment.report_count) + 1))
    threshold = max(call.report_threshold, 1)
    reporters = distinct_reporters(session, target_type=ReportTarget.comment, target_id=comment.id)
    if reporters < threshold:
        return False
    if not hiding.hide(session, [comment.id]):  # out of its idea's comment count too
        return False
    session.refresh(comment)
    record(session, actor=None, action=AuditAction.hide, target_type=TargetType.comment, target_id=comment.id,
           reason=REASON_REPORTED, from_status="visible", to_status="hidden",
           details={"idea_id": idea.id, "reporters": reporters, "threshold": threshold})
    notify.item_hidden(session, settings, idea=idea, comment=comment)
    return True
