"""The posting policy: rate limits and spam holds for new ideas and comments.

A kernel module, so that the ideas and comments services apply it without reaching into
moderation; what it holds lands in the moderators' queue. Those services call `check_posting`
before writing: it raises RateLimited (a clear message, 429) when someone posts too fast, and
answers whether the content must be held for review because a brand-new account posts links.
A held idea waits in the moderation queue (status submitted) even in a call without
pre-moderation; a held comment is hidden with an open automatic "spam" report, so it appears
under "Reported items" until a moderator restores or hides it. Moderators and administrators
are never limited.
"""

import re
from datetime import timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col

from app.account.models import User
from app.audit import REASON_HELD, AuditAction, TargetType, record
from app.clock import utcnow
from app.comment import hiding
from app.comment.models import Comment
from app.i18n import N_
from app.idea.models import Idea
from app.ratelimit import service as ratelimit
from app.report.models import Report, ReportReason, ReportTarget

NEW_ACCOUNT = timedelta(hours=24)
# kind -> (how many, per window)
LIMITS: dict[str, tuple[int, timedelta]] = {
    "idea": (5, timedelta(hours=1)),
    "comment": (10, timedelta(minutes=10)),
}
MESSAGES = {
    "idea": N_("You are proposing ideas very quickly. Please wait a little before sending another one."),
    "comment": N_("You are commenting very quickly. Please wait a few minutes before posting again."),
}
HOLD_NOTE = REASON_HELD  # also the details of the automatic report
LINK_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|info|biz|be|fr|nl|de|eu|io|xyz|ru|ly|co|me|shop|top)\b",
    re.IGNORECASE,
)


def has_link(text: str) -> bool:
    """Whether `text` contains a web address or a link (the pattern spam uses)."""
    return bool(LINK_RE.search(text or ""))


def is_new_account(user: User) -> bool:
    """Whether `user` registered less than NEW_ACCOUNT ago."""
    return utcnow() - user.created_at < NEW_ACCOUNT


def check_posting(session: Session, user: User, text: str, kind: str) -> bool:
    """Count one posting of `kind` ("idea" or "comment") by `user`. Raises RateLimited when the
    limit is reached; returns True when the content must be held for review."""
    if user.is_staff:
        return False
    limit, window = LIMITS[kind]
    key = f"post:{kind}:{user.id}"
    ratelimit.check(session, key, limit=limit, window=window, message=MESSAGES[kind])
    ratelimit.record(session, key)
    return must_hold(user, text)


def must_hold(user: User, text: str) -> bool:
    """Whether content written now by `user` waits for a moderator (edits included)."""
    return not user.is_staff and is_new_account(user) and has_link(text)


def hold_comment(session: Session, *, comment: Comment, author: User) -> None:
    """Hide a comment and queue it for moderators with an automatic report."""
    assert comment.id is not None and author.id is not None
    hiding.hide(session, [comment.id])  # out of public view, and of its idea's comment count
    # The report is filed in the author's name because a report needs a person; it is marked
    # as automatic in its details, and resolving it (restore, hide, dismiss) works as usual.
    reopened = session.execute(
        update(Report).where(col(Report.target_type) == ReportTarget.comment, col(Report.target_id) == comment.id,
                             col(Report.reporter_id) == author.id)
        .values(resolved_at=None, resolved_by_id=None, resolution=None, reason=ReportReason.spam, details=HOLD_NOTE)
    ).rowcount  # type: ignore[attr-defined]
    if not reopened:
        session.execute(insert(Report).values(target_type=ReportTarget.comment, target_id=comment.id,
                                              idea_id=comment.idea_id, reporter_id=author.id,
                                              reason=ReportReason.spam, details=HOLD_NOTE))
    record(session, actor=None, action=AuditAction.hold, target_type=TargetType.comment, target_id=comment.id,
           reason=HOLD_NOTE, to_status="hidden", details={"idea_id": comment.idea_id})


def review_comment_edit(session: Session, *, comment: Comment) -> bool:
    """After an edit: a new account that adds a link to a visible comment sends it back to
    moderators. Returns True if the comment is now held."""
    author = session.get(User, comment.author_id) if comment.author_id is not None else None
    if author is None or comment.hidden_at is not None or not must_hold(author, comment.body_md):
        return False
    hold_comment(session, comment=comment, author=author)
    return True


def hold_idea(session: Session, *, idea: Idea) -> None:
    """Record why an idea waits for a moderator in a call without pre-moderation (the ideas
    service sets its status to submitted)."""
    assert idea.id is not None
    record(session, actor=None, action=AuditAction.hold, target_type=TargetType.idea, target_id=idea.id,
           reason=HOLD_NOTE, to_status="submitted")
