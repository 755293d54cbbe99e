"""Administration of people: roles and moderators assigned to calls. Every change is audited."""

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import authz
from app.account.admins import ensure_another_admin_remains
from app.account.models import Role, User
from app.audit import AuditAction, TargetType, record
from app.authz import Action
from app.call.models import Call
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.locks import lock_admin_changes
from app.moderation.models import ModeratorAssignment


def set_role(session: Session, *, actor: User, user: User, role: str) -> None:
    """An administrator gives `user` the role `role` (citizen, moderator, admin); demotion to citizen ends
    their call assignments; audited. Raises ValidationFailed with `role` for an unknown role, one's
    own role, or the role the person already has; Conflict when `user` is the last active
    administrator (app.account.admins); NotFound when the account was deleted meanwhile;
    Forbidden when `actor` is no longer an active administrator."""
    if role not in set(Role):
        raise ValidationFailed({"role": N_("Please choose a role from the list.")})
    if user.id == actor.id:
        raise ValidationFailed({"role": N_("You cannot change your own role.")})
    # Another administrator may be changing roles at this moment (demoting this actor, say):
    # decide in turn, on both accounts as they are now.
    lock_admin_changes(session)
    session.refresh(user)
    session.refresh(actor)
    if user.deleted_at is not None:
        raise NotFound()
    if user.role == Role.admin and role != Role.admin:
        ensure_another_admin_remains(session, losing=user)
    authz.require(actor, Action.admin_users)
    if user.role == role:
        raise ValidationFailed({"role": N_("This person already has this role.")})
    before = user.role
    user.role = role
    session.add(user)
    assert user.id is not None
    if role == Role.citizen:
        session.execute(delete(ModeratorAssignment).where(col(ModeratorAssignment.user_id) == user.id))
    record(session, actor=actor, action=AuditAction.role_change, target_type=TargetType.user, target_id=user.id,
           from_status=before, to_status=role)


def assigned_ids(session: Session, call_id: int) -> frozenset[int]:
    """The moderators assigned to a call (empty: every moderator handles it), for app.authz."""
    return frozenset(session.exec(select(ModeratorAssignment.user_id)
                                  .where(ModeratorAssignment.call_id == call_id)).all())


def assigned_moderators(session: Session, call_id: int) -> list[User]:
    """The moderators assigned to call `call_id`, by name."""
    return list(session.exec(
        select(User).join(ModeratorAssignment, col(ModeratorAssignment.user_id) == col(User.id))
        .where(ModeratorAssignment.call_id == call_id).order_by(col(User.display_name))
    ).all())


def assign_moderator(session: Session, *, actor: User, call: Call, user: User | None) -> None:
    """Assign a moderator or administrator to `call`; audited. Raises ValidationFailed with `user_id` when
    `user` is missing, not staff, suspended, or already assigned (also by a parallel request)."""
    if user is None or user.role not in (Role.moderator, Role.admin) or user.banned_at is not None:
        raise ValidationFailed({"user_id": N_("Please choose a moderator from the list.")})
    assert call.id is not None and user.id is not None
    existing = session.exec(select(ModeratorAssignment).where(ModeratorAssignment.call_id == call.id,
                                                              ModeratorAssignment.user_id == user.id)).first()
    if existing is not None:
        raise ValidationFailed({"user_id": N_("This moderator is already assigned to the call.")})
    try:
        # In a savepoint: two admins assigning the same person at once meet the unique index.
        with session.begin_nested():
            session.add(ModeratorAssignment(call_id=call.id, user_id=user.id))
            session.flush()
    except IntegrityError as exc:
        raise ValidationFailed({"user_id": N_("This moderator is already assigned to the call.")}) from exc
    record(session, actor=actor, action=AuditAction.assign_moderator, target_type=TargetType.call,
           target_id=call.id, details={"user_id": user.id})


def unassign_moderator(session: Session, *, actor: User, call: Call, user_id: int) -> None:
    """End the assignment of user `user_id` to `call`; audited. Raises NotFound when there was none."""
    assert call.id is not None
    result = session.execute(delete(ModeratorAssignment).where(col(ModeratorAssignment.call_id) == call.id,
                                                               col(ModeratorAssignment.user_id) == user_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound()
    record(session, actor=actor, action=AuditAction.unassign_moderator, target_type=TargetType.call,
           target_id=call.id, details={"user_id": user_id})
