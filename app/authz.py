"""Every permission rule, in one place.

Routes call `require(user, Action.X, obj)`; templates call `can(user, "x.y", obj)`.
Each action maps to a pure predicate `(user, obj) -> bool` with no database access: the
route loads what the rule needs first. Features add their actions and predicates here, so a
reviewer reads the whole permission model in one file, and the test matrix walks `RULES`.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from app.account.models import Role, User
from app.errors import Forbidden, LoginRequired


class Action(StrEnum):
    account_manage = "account.manage"
    moderation_access = "moderation.access"
    admin_access = "admin.access"
    # Moderation (obj: the Idea decided on; a moderator never decides on their own idea)
    moderation_decide = "moderation.decide"
    idea_answer = "idea.answer"
    results_publish = "results.publish"
    user_ban = "user.ban"  # obj: the User to ban or unban
    admin_users = "admin.users"
    admin_audit = "admin.audit"
    admin_dialogue = "admin.dialogue"


Predicate = Callable[[User | None, Any], bool]


def is_active(user: User | None) -> bool:
    return user is not None and user.banned_at is None and user.deleted_at is None


def is_citizen(user: User | None) -> bool:
    """Any active account (moderators and admins are citizens too)."""
    return is_active(user)


def is_verified(user: User | None) -> bool:
    return is_active(user) and user is not None and user.email_verified_at is not None


def is_moderator(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role in (Role.moderator, Role.admin)


def is_admin(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role == Role.admin


def is_own(user: User | None, obj: Any) -> bool:
    """Whether `obj` (an idea, a comment...) was written by `user`."""
    return user is not None and obj is not None and getattr(obj, "author_id", None) == user.id


def moderates(user: User | None, obj: Any) -> bool:
    """A moderator deciding on something that is not their own (a conflict of interest)."""
    return is_moderator(user) and not is_own(user, obj)


def may_ban(user: User | None, target: Any) -> bool:
    """Moderators ban citizens; only administrators ban staff; nobody bans themself."""
    if not is_moderator(user) or user is None:
        return False
    if target is None:
        return True
    if getattr(target, "id", None) == user.id:
        return False
    return getattr(target, "role", Role.citizen) == Role.citizen or is_admin(user)


RULES: dict[Action, Predicate] = {
    Action.account_manage: lambda user, _obj: is_active(user),
    Action.moderation_access: lambda user, _obj: is_moderator(user),
    Action.admin_access: lambda user, _obj: is_admin(user),
    Action.moderation_decide: moderates,
    Action.idea_answer: moderates,
    Action.results_publish: lambda user, _obj: is_moderator(user),
    Action.user_ban: may_ban,
    Action.admin_users: lambda user, _obj: is_admin(user),
    Action.admin_audit: lambda user, _obj: is_admin(user),
    Action.admin_dialogue: lambda user, _obj: is_admin(user),
}


def can(user: User | None, action: Action | str, obj: Any = None) -> bool:
    return RULES[Action(action)](user, obj)


def require(user: User | None, action: Action | str, obj: Any = None) -> None:
    """Raise unless `user` may do `action` on `obj`: anonymous visitors are sent to log in."""
    if can(user, action, obj):
        return
    if user is None:
        raise LoginRequired()
    raise Forbidden()
