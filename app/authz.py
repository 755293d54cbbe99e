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


RULES: dict[Action, Predicate] = {
    Action.account_manage: lambda user, _obj: is_active(user),
    Action.moderation_access: lambda user, _obj: is_moderator(user),
    Action.admin_access: lambda user, _obj: is_admin(user),
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
