"""Personal data: a person's export of everything they gave the site, and their account deletion.

The export holds what the person wrote and did, never another person's private data: other
people appear only by the display name already public next to what they wrote.

Deletion keeps what the person contributed in public (ideas past the draft, comments) without
their name: the rows lose their author, the account row is anonymised and kept so that old
references (audit log, reports they made) still point somewhere, and everything else about the
person (votes, follows, notifications, preferences, sessions, links) is removed. Counters follow
the rows with SQL updates in the same transaction.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app import authz
from app.account import passwords
from app.account.models import EmailToken, Role, User
from app.account.service import LOGIN_WINDOW
from app.account.sessions import end_all_sessions
from app.authz import Action
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.comment.models import Comment
from app.errors import Conflict, ValidationFailed
from app.follow.models import Follow
from app.i18n import N_
from app.idea.models import Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange
from app.media import service as media_service
from app.media.models import MediaFile
from app.moderation.models import AuditAction, ModeratorAssignment, TargetType
from app.moderation.service import record
from app.notify.models import (
    KIND_LABELS,
    EmailDelivery,
    Notification,
    NotificationDigest,
    NotificationPreference,
)
from app.ratelimit import service as ratelimit
from app.report.models import Report
from app.settings import Settings
from app.vote.models import Vote

FORMER_MEMBER_NAME = "Ancien membre"
EXPORT_FORMAT = "reinventons-export/1"


def placeholder_email(user_id: int) -> str:
    """A unique address that can never receive mail (.invalid is reserved, RFC 2606)."""
    return f"deleted-{user_id}@invalid"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# Export ---------------------------------------------------------------------------------------

def export_data(session: Session, settings: Settings, user: User) -> dict[str, Any]:
    """Everything the site keeps about `user`, as plain JSON-ready data."""
    assert user.id is not None
    base = settings.base_url.rstrip("/")

    calls = {c.id: c.title for c in session.exec(select(Call)).all()}
    ideas = session.exec(select(Idea).where(Idea.author_id == user.id).order_by(col(Idea.id))).all()
    photos: dict[int, list[IdeaPhoto]] = {}
    if ideas:
        for photo in session.exec(select(IdeaPhoto).where(col(IdeaPhoto.idea_id).in_([i.id for i in ideas]))
                                  .order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))).all():
            photos.setdefault(photo.idea_id, []).append(photo)

    def idea_ref(idea_id: int | None) -> dict[str, Any] | None:
        """An idea the person interacted with: its title only if they may see it."""
        if idea_id is None:
            return None
        idea = session.get(Idea, idea_id)
        if idea is None:
            return {"id": idea_id, "title": None}
        visible = authz.can(user, Action.idea_view, idea)
        return {"id": idea_id, "title": idea.title if visible else None,
                "url": f"{base}/ideas/{idea_id}" if visible else None}

    comments = session.exec(select(Comment).where(Comment.author_id == user.id).order_by(col(Comment.id))).all()
    votes = session.exec(select(Vote).where(Vote.user_id == user.id).order_by(col(Vote.id))).all()
    follows = session.exec(select(Follow).where(Follow.user_id == user.id).order_by(col(Follow.id))).all()
    notifications = session.exec(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(col(Notification.id))).all()
    reports = session.exec(select(Report).where(Report.reporter_id == user.id).order_by(col(Report.id))).all()
    preferences = {p.kind: p.delivery for p in session.exec(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)).all()}

    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "site": base,
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "role": user.role,
            "created_at": _when(user.created_at),
            "email_verified_at": _when(user.email_verified_at),
            "has_password": bool(user.password_hash),
        },
        "ideas": [{
            "id": idea.id,
            "call": calls.get(idea.call_id),
            "title": idea.title,
            "body_markdown": idea.body_md,
            "status": idea.status,
            "hidden_by_moderation": idea.hidden_at is not None,
            "created_at": _when(idea.created_at),
            "updated_at": _when(idea.updated_at),
            "submitted_at": _when(idea.submitted_at),
            "published_at": _when(idea.published_at),
            "url": f"{base}/ideas/{idea.id}",
            "photos": [{"url": f"{base}/ideas/{idea.id}/photos/{p.id}/display", "alt_text": p.alt_text}
                       for p in photos.get(idea.id or 0, [])],
        } for idea in ideas],
        "comments": [{
            "id": c.id,
            "idea": idea_ref(c.idea_id),
            "body_markdown": c.body_md,
            "created_at": _when(c.created_at),
            "edited_at": _when(c.edited_at),
            "deleted_at": _when(c.deleted_at),
            "hidden_by_moderation": c.hidden_at is not None,
        } for c in comments],
        "votes": [{"idea": idea_ref(v.idea_id), "created_at": _when(v.created_at)} for v in votes],
        "follows": [{"idea": idea_ref(f.idea_id), "created_at": _when(f.created_at)} for f in follows],
        "notifications": [{
            "kind": n.kind,
            "by": n.actor_name or None,
            "subject": n.subject,
            "detail": n.detail,
            "link": f"{base}{n.link}" if n.link.startswith("/") else n.link,
            "created_at": _when(n.created_at),
            "read_at": _when(n.read_at),
        } for n in notifications],
        "reports": [{
            "target_type": r.target_type,
            "target_id": r.target_id,
            "idea": idea_ref(r.idea_id),
            "reason": r.reason,
            "details": r.details,
            "created_at": _when(r.created_at),
            "resolved_at": _when(r.resolved_at),
            "resolution": r.resolution,
        } for r in reports],
        "notification_preferences": {str(kind): {"email": preferences.get(str(kind), EmailDelivery.immediate.value)}
                                     for kind in KIND_LABELS},
    }


# Deletion -------------------------------------------------------------------------------------

def _active_admins(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(
        User.role == Role.admin, col(User.deleted_at).is_(None), col(User.banned_at).is_(None))).one())


def _ideas_still_voted_on(session: Session, user_id: int) -> list[int]:
    """The ideas this person voted for in calls that have not moved past voting."""
    rows = session.exec(
        select(Vote.idea_id, Call).join(Idea, col(Idea.id) == Vote.idea_id).join(Call, col(Call.id) == Idea.call_id)
        .where(Vote.user_id == user_id)
    ).all()
    open_phases = (Phase.draft, Phase.submissions, Phase.voting)
    return [idea_id for idea_id, call in rows if current_phase(call) in open_phases]


def delete_account(session: Session, settings: Settings, user: User, *, password: str) -> None:
    """Re-authenticate with the password, then anonymise the account and remove personal data.

    Raises ValidationFailed (wrong password: nothing changed but the failed attempt, which
    counts towards the login rate limit) or Conflict (the last administrator)."""
    assert user.id is not None
    user_id = user.id
    key = f"login:{user.email}"
    ratelimit.check(session, key, limit=settings.login_attempts_per_minute, window=LOGIN_WINDOW,
                    message=N_("Too many failed attempts for this account. Please wait a minute and try again."))
    if not passwords.verify_password(user.password_hash, password):
        ratelimit.record(session, key)
        raise ValidationFailed({"password": N_("This password is not correct. Your account was not deleted.")})
    # Locks the row (PostgreSQL) so that two deletions or a role change cannot interleave.
    locked = session.exec(select(User).where(User.id == user_id).with_for_update()).one()
    if locked.deleted_at is not None:
        raise Conflict(N_("This account has already been deleted."))
    if locked.role == Role.admin and _active_admins(session) <= 1:
        raise Conflict(N_("You are the last administrator: appoint another administrator before "
                          "deleting your account."))
    ratelimit.clear(session, key)

    # Votes and follows go, their counters with them (one vote/follow per idea: one UPDATE).
    # Votes of calls whose vote is over stay, tied to the anonymised account: published
    # results must not change when a voter leaves.
    voted = [row[0] for row in session.execute(
        delete(Vote).where(col(Vote.user_id) == user_id, col(Vote.idea_id).in_(_ideas_still_voted_on(session, user_id)))
        .returning(col(Vote.idea_id))).all()]
    if voted:
        session.execute(update(Idea).where(col(Idea.id).in_(voted))
                        .values(vote_count=col(Idea.vote_count) - 1))
    followed = [row[0] for row in session.execute(
        delete(Follow).where(col(Follow.user_id) == user_id).returning(col(Follow.idea_id))).all()]
    if followed:
        session.execute(update(Idea).where(col(Idea.id).in_(followed))
                        .values(follower_count=col(Idea.follower_count) - 1))

    session.execute(delete(Notification).where(col(Notification.user_id) == user_id))
    session.execute(delete(NotificationPreference).where(col(NotificationPreference.user_id) == user_id))
    session.execute(delete(NotificationDigest).where(col(NotificationDigest.user_id) == user_id))
    session.execute(delete(EmailToken).where(col(EmailToken.user_id) == user_id))
    session.execute(delete(ModeratorAssignment).where(col(ModeratorAssignment.user_id) == user_id))
    end_all_sessions(session, user_id)

    # Drafts were never shown to anyone: they go, with their photos.
    drafts = session.exec(select(Idea).where(Idea.author_id == user_id, Idea.status == IdeaStatus.draft)).all()
    draft_count = len(drafts)
    for draft in drafts:
        media = session.exec(select(MediaFile).join(IdeaPhoto, col(IdeaPhoto.media_id) == MediaFile.id)
                             .where(IdeaPhoto.idea_id == draft.id)).all()
        for item in media:
            media_service.delete_media(session, settings, item)
        session.delete(draft)
    session.flush()

    # What stays in public loses its author.
    session.execute(update(Idea).where(col(Idea.author_id) == user_id).values(author_id=None))
    session.execute(update(Comment).where(col(Comment.author_id) == user_id).values(author_id=None))
    session.execute(update(IdeaStatusChange).where(col(IdeaStatusChange.actor_id) == user_id).values(actor_id=None))
    session.execute(update(MediaFile).where(col(MediaFile.owner_id) == user_id).values(owner_id=None))

    previous_role = locked.role
    locked.email = placeholder_email(user_id)
    locked.display_name = FORMER_MEMBER_NAME
    locked.password_hash = None
    locked.email_verified_at = None
    locked.role = Role.citizen
    locked.deleted_at = utcnow()
    session.add(locked)
    session.flush()
    record(session, actor=locked, action=AuditAction.account_deleted, target_type=TargetType.user,
           target_id=user_id, details={"role": previous_role, "votes_withdrawn": len(voted),
                                       "drafts_deleted": draft_count})
