"""The platform always keeps an active administrator (an account with the role `admin`, neither
suspended nor deleted): without one, nobody could give the role again.

Every decision that can take an administrator away checks it here, under one lock:
a change of role (app.moderation.admin_service.set_role), a suspension
(app.moderation.bans.ban_user) and the deletion of one's own account
(app.account.privacy.delete_account). Nothing else removes an administrator: the command line
only creates accounts, and administrators do not delete other people's accounts.

Two administrators demoting each other at the same moment would each count the other as the
administrator who remains, and both succeed. The lock (app.locks.lock_admin_changes) makes the
second decision wait until the first is committed, then count again.
"""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.errors import Conflict
from app.i18n import N_
from app.locks import lock_admin_changes

LAST_ADMINISTRATOR = N_("{name} is the last active administrator: appoint another administrator first. "
                        "Nothing was changed.")


def ensure_another_admin_remains(session: Session, *, losing: User, message: str = LAST_ADMINISTRATOR) -> None:
    """Raise Conflict (with `message`, an English msgid that may use `{name}`, the display name of
    `losing`) unless an active administrator other than `losing` remains.

    Takes the lock of administrator changes and counts the rows as committed now. A caller that
    read `losing` (or checks its actor) before must take the lock first
    (app.locks.lock_admin_changes) and read them again: what it read may have changed since."""
    lock_admin_changes(session)
    others = session.exec(select(func.count()).select_from(User).where(
        User.role == Role.admin, col(User.deleted_at).is_(None), col(User.banned_at).is_(None),
        col(User.id) != losing.id)).one()
    if not others:
        raise Conflict(message, name=losing.display_name)
