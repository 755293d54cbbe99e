"""Personal data: a person's export of everything they gave the site, and their account deletion.

Each domain declares what it keeps about a person (a `Holding` in its `privacy.py`, see
app.personal_data); app/privacy_registry.py lists them all, and this module walks that list
around the account's own data. The export holds what the person wrote and did, never another
person's private data: other people appear only by the display name already public next to
what they wrote.

Deletion keeps what the person contributed in public (ideas past the draft, comments) without
their name: the rows lose their author, the account row is anonymised and kept so that old
references (audit log, reports they made) still point somewhere, and everything else about the
person (votes, follows, notifications, preferences, sessions, links) is removed. Counters follow
the rows with SQL updates in the same transaction.
"""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account import passwords
from app.account.admins import ensure_another_admin_remains
from app.account.models import EmailToken, Role, User
from app.account.service import LOGIN_WINDOW
from app.account.sessions import end_all_sessions
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import Conflict, ValidationFailed
from app.i18n import N_
from app.locks import lock_admin_changes
from app.personal_data import when
from app.privacy_registry import HOLDINGS
from app.ratelimit import service as ratelimit
from app.settings import Settings

FORMER_MEMBER_NAME = "Ancien membre"
EXPORT_FORMAT = "reinventons-export/1"


def placeholder_email(user_id: int) -> str:
    """A unique address that can never receive mail (.invalid is reserved, RFC 2606)."""
    return f"deleted-{user_id}@invalid"


# Export ---------------------------------------------------------------------------------------

def export_data(session: Session, settings: Settings, user: User) -> dict[str, Any]:
    """Everything the site keeps about `user`, as plain JSON-ready data: the account, then one
    section per holding of app.privacy_registry, in its order."""
    assert user.id is not None
    base = settings.base_url.rstrip("/")
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "site": settings.base_url,
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "role": user.role,
            "created_at": when(user.created_at),
            "email_verified_at": when(user.email_verified_at),
            "has_password": bool(user.password_hash),
        },
    }
    for holding in HOLDINGS:
        if holding.export is not None:
            data[holding.name] = holding.export(session, user=user, base_url=base)
    return data


# Deletion -------------------------------------------------------------------------------------

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
    # The person may be an administrator, or become one, while another administrator is being
    # demoted or is leaving too: decide in turn (this lock first, then the row, which stops two
    # deletions of this account from interleaving), on the account as it is now.
    lock_admin_changes(session)
    locked = session.exec(select(User).where(User.id == user_id).with_for_update()).one()
    if locked.deleted_at is not None:
        raise Conflict(N_("This account has already been deleted."))
    if locked.role == Role.admin:
        ensure_another_admin_remains(session, losing=locked, message=N_(
            "You are the last administrator: appoint another administrator before deleting your account."))
    ratelimit.clear(session, key)

    # Each domain erases what it keeps (app.privacy_registry), then the account's own data.
    figures: dict[str, int] = {}
    for holding in HOLDINGS:
        if holding.erase is not None:
            figures.update(holding.erase(session, user_id=user_id, settings=settings))
    session.execute(delete(EmailToken).where(col(EmailToken.user_id) == user_id))
    end_all_sessions(session, user_id)

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
           target_id=user_id, details={"role": previous_role, **figures})
