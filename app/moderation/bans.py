"""Suspending and reinstating accounts: the sessions end at once, the content may be hidden,
and each decision is audited like any other. What follows from a suspension (the sessions
ended, each idea and comment hidden) is audited too, as the system's doing, pointing at the
moderator's entry: each item's own log then says why it is hidden."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import authz
from app.account.admins import ensure_another_admin_remains
from app.account.models import Role, User
from app.account.sessions import end_all_sessions
from app.audit import REASON_AUTHOR_SUSPENDED, REASON_SUSPENDED, AuditAction, AuditEntry, TargetType, record
from app.authz import Action
from app.clock import utcnow
from app.comment import hiding
from app.comment.models import Comment
from app.errors import InvalidTransition, NotFound
from app.i18n import N_, translate
from app.idea.models import Idea
from app.locks import lock_admin_changes, lock_ideas
from app.moderation import notices
from app.moderation.common import HIDEABLE, HISTORY_HIDDEN, add_history, clean_text
from app.search.queue import reindex_later

SUSPENSION_REASON = N_("Please give the reason for the suspension.")


@dataclass(frozen=True)
class Consequences:
    """What a suspension would do, for the confirmation page: the person's ideas and comments
    that "also hide their content" would hide (the same selection as `ban_user`)."""

    ideas: int
    comments: int


def consequences(session: Session, user: User) -> Consequences:
    """Count what suspending `user` with their content hidden would hide, as `ban_user` selects it."""
    ideas = session.exec(select(func.count()).select_from(Idea).where(
        Idea.author_id == user.id, col(Idea.hidden_at).is_(None), col(Idea.status).in_(HIDEABLE))).one()
    comments = session.exec(select(func.count()).select_from(Comment).where(
        Comment.author_id == user.id, col(Comment.hidden_at).is_(None))).one()
    return Consequences(ideas=int(ideas), comments=int(comments))


def check_reason(reason: str) -> str:
    """The suspension's reason, stripped; ValidationFailed on `reason` when missing or too long."""
    return clean_text(reason, field="reason", required=True, message=SUSPENSION_REASON)


def ban_user(session: Session, *, actor: User, user: User, reason: str, hide_content: bool) -> AuditEntry:
    """Suspend `user`: every session ends at once and, with `hide_content`, their public ideas and comments
    are hidden; returns the audit entry. Raises ValidationFailed with `reason` when it is missing or
    too long, InvalidTransition when the account is already suspended or a moderator tries to
    suspend staff, Conflict when `user` is the last active administrator (app.account.admins),
    Forbidden when `actor` may no longer suspend `user` (their role changed meanwhile), NotFound
    when the account was deleted meanwhile."""
    reason = check_reason(reason)
    # The person may be an administrator, or become one, while another administrator is being
    # demoted: decide in turn (this lock first, then the row), on both accounts as they are now.
    lock_admin_changes(session)
    session.refresh(user, with_for_update=True)
    session.refresh(actor)
    if user.deleted_at is not None:
        raise NotFound()
    if user.banned_at is not None:
        raise InvalidTransition(N_("This account is already suspended."))
    if user.role == Role.admin:
        ensure_another_admin_remains(session, losing=user)
    if user.role != Role.citizen and actor.role != Role.admin:
        raise InvalidTransition(N_("Only an administrator can suspend a staff account."))
    authz.require(actor, Action.user_ban, user)
    user.banned_at = utcnow()
    user.ban_reason = reason
    session.add(user)
    assert user.id is not None
    sessions_ended = end_all_sessions(session, user.id)
    hidden_ideas: list[Idea] = []
    hidden_comments: list[int] = []
    if hide_content:
        # Every idea this writes (theirs, and those their comments are on), locked before the
        # first write: hiding one adds to shared rows of counters (app.locks.lock_ideas).
        lock_ideas(session, [*session.exec(select(Idea.id).where(Idea.author_id == user.id)).all(),
                             *session.exec(select(Comment.idea_id).where(Comment.author_id == user.id)).all()])
        now = utcnow()
        hidden_ideas = list(session.exec(
            select(Idea).where(Idea.author_id == user.id, col(Idea.hidden_at).is_(None),
                               col(Idea.status).in_(HIDEABLE))
        ).all())
        note = translate(actor.language, REASON_AUTHOR_SUSPENDED)
        for idea in hidden_ideas:
            idea.hidden_at = now
            session.add(idea)
            reindex_later(session, idea.id)
            add_history(session, idea, actor, idea.status, HISTORY_HIDDEN, note)
        comment_ids = [i for i in session.exec(
            select(Comment.id).where(Comment.author_id == user.id, col(Comment.hidden_at).is_(None))
        ).all() if i is not None]
        hidden_comments = hiding.hide(session, comment_ids, at=now)  # out of the comment counts too
    entry = record(session, actor=actor, action=AuditAction.ban, target_type=TargetType.user, target_id=user.id,
                   reason=reason, from_status="active", to_status="banned",
                   details={"hidden_ideas": [i.id for i in hidden_ideas], "hidden_comments": hidden_comments})
    _record_consequences(session, ban=entry, user_id=user.id, sessions_ended=sessions_ended, ideas=hidden_ideas,
                         comment_ids=hidden_comments)
    notices.account_banned(session, user=user, reason=reason)
    return entry


def _record_consequences(session: Session, *, ban: AuditEntry, user_id: int, sessions_ended: int,
                         ideas: list[Idea], comment_ids: list[int]) -> None:
    """What the system did because of the suspension, one entry per account or item, so each
    item's own log says why it is hidden. Entries without an actor, pointing at the ban."""
    link = {"ban_entry": ban.id}
    record(session, actor=None, action=AuditAction.end_sessions, target_type=TargetType.user, target_id=user_id,
           reason=REASON_SUSPENDED, details={**link, "sessions": sessions_ended})
    for idea in ideas:
        assert idea.id is not None
        record(session, actor=None, action=AuditAction.hide, target_type=TargetType.idea, target_id=idea.id,
               reason=REASON_AUTHOR_SUSPENDED, from_status=idea.status, to_status=HISTORY_HIDDEN, details=link)
    ideas_of = dict(session.exec(select(Comment.id, Comment.idea_id).where(col(Comment.id).in_(comment_ids))).all()) \
        if comment_ids else {}
    for comment_id in comment_ids:
        record(session, actor=None, action=AuditAction.hide, target_type=TargetType.comment, target_id=comment_id,
               reason=REASON_AUTHOR_SUSPENDED, from_status="visible", to_status=HISTORY_HIDDEN,
               details={**link, "idea_id": ideas_of.get(comment_id)})


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
