"""Suspending and reinstating accounts: the sessions end at once, the content may be hidden,
and each decision is audited like any other."""

from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.account.sessions import end_all_sessions
from app.audit import AuditAction, AuditEntry, TargetType, record
from app.clock import utcnow
from app.comment.models import Comment
from app.errors import InvalidTransition
from app.i18n import N_, translate
from app.idea.models import Idea
from app.moderation import notices
from app.moderation.common import HIDEABLE, HISTORY_HIDDEN, add_history, clean_text


def ban_user(session: Session, *, actor: User, user: User, reason: str, hide_content: bool) -> AuditEntry:
    """Suspend `user`: every session ends at once and, with `hide_content`, their public ideas and comments
    are hidden; returns the audit entry. Raises ValidationFailed with `reason` when it is missing or
    too long, InvalidTransition when the account is already suspended or a moderator tries to
    suspend staff."""
    reason = clean_text(reason, field="reason", required=True,
                         message=N_("Please give the reason for the suspension."))
    session.refresh(user, with_for_update=True)
    if user.banned_at is not None:
        raise InvalidTransition(N_("This account is already suspended."))
    if user.role != Role.citizen and actor.role != Role.admin:
        raise InvalidTransition(N_("Only an administrator can suspend a staff account."))
    user.banned_at = utcnow()
    user.ban_reason = reason
    session.add(user)
    assert user.id is not None
    end_all_sessions(session, user.id)
    hidden_ideas: list[int] = []
    hidden_comments: list[int] = []
    if hide_content:
        now = utcnow()
        ideas = session.exec(
            select(Idea).where(Idea.author_id == user.id, col(Idea.hidden_at).is_(None),
                               col(Idea.status).in_(HIDEABLE))
        ).all()
        note = translate(actor.language, N_("Hidden because its author's account was suspended."))
        for idea in ideas:
            idea.hidden_at = now
            session.add(idea)
            add_history(session, idea, actor, idea.status, HISTORY_HIDDEN, note)
            assert idea.id is not None
            hidden_ideas.append(idea.id)
        comments = session.exec(
            select(Comment).where(Comment.author_id == user.id, col(Comment.hidden_at).is_(None))
        ).all()
        for comment in comments:
            comment.hidden_at = now
            session.add(comment)
            assert comment.id is not None
            hidden_comments.append(comment.id)
    entry = record(session, actor=actor, action=AuditAction.ban, target_type=TargetType.user, target_id=user.id,
                   reason=reason, from_status="active", to_status="banned",
                   details={"hidden_ideas": hidden_ideas, "hidden_comments": hidden_comments})
    notices.account_banned(session, user=user, reason=reason)
    return entry


def unban_user(session: Session, *, actor: User, user: User, reason: str = "") -> AuditEntry:
    """Lift a suspension (hidden content stays hidden until restored one by one); returns the audit entry.
    Raises InvalidTransition when the account is not suspended, ValidationFailed with `reason` when
    it is too long."""
    reason = clean_text(reason, field="reason", required=False)
    session.refresh(user, with_for_update=True)
    if user.banned_at is None:
        raise InvalidTransition(N_("This account is not suspended."))
    user.banned_at = None
    user.ban_reason = None
    session.add(user)
    assert user.id is not None
    return record(session, actor=actor, action=AuditAction.unban, target_type=TargetType.user, target_id=user.id,
                  reason=reason, from_status="banned", to_status="active")
