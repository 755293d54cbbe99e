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

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account import passwords
from app.account.admins import ensure_another_admin_remains
from app.account.models import EmailToken, Role, User, UserIdentity
from app.account.service import LOGIN_WINDOW
from app.account.sessions import end_all_sessions
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.i18n import N_
from app.locks import lock_admin_changes, lock_ideas
from app.personal_data import when
from app.privacy_registry import HOLDINGS
from app.ratelimit import service as ratelimit
from app.settings import OidcProvider, Settings

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

DELETED = N_("Your account is deleted. Your ideas and comments stay, without your name. Goodbye, and thank you.")
FRESH_SIGN_IN = timedelta(minutes=5)
NOT_YOURS = N_("This {provider} account is not linked to your account. Your account was not deleted.")
NOT_FRESH = N_("{provider} did not ask you to sign in again just now. Your account was not deleted. "
               "Please try again.")
HAS_PASSWORD = N_("Your account has a password: confirm the deletion with your password.")


def delete_account(session: Session, settings: Settings, user: User, *, password: str) -> None:
    """Re-authenticate with the password, then anonymise the account and remove personal data.

    Raises ValidationFailed (wrong password: nothing changed but the failed attempt, which
    counts towards the login rate limit) or Conflict (the last administrator)."""
    assert user.id is not None
    key = f"login:{user.email}"
    ratelimit.check(session, key, limit=settings.login_attempts_per_minute, window=LOGIN_WINDOW,
                    message=N_("Too many failed attempts for this account. Please wait a minute and try again."))
    if not passwords.verify_password(user.password_hash, password):
        ratelimit.record(session, key)
        raise ValidationFailed({"password": N_("This password is not correct. Your account was not deleted.")})
    _erase_account(session, settings, user.id)
    ratelimit.clear(session, key)


def delete_account_by_identity(session: Session, settings: Settings, user: User, *, provider: OidcProvider,
                               issuer: str, subject: str, auth_time: float | None) -> None:
    """Delete an account that has no password, confirmed by a sign-in at an OpenID provider just
    now (app.account.oidc checked the ID token: signature, issuer, audience, expiry, nonce):
    the identity (`issuer`, `subject`) must be linked to `user`, and `auth_time` (the ID
    token's claim, seconds since the epoch, None when the provider did not send it) no older
    than FRESH_SIGN_IN. Then the same erasure as `delete_account`. Not committed.

    Raises Conflict (HAS_PASSWORD: the password path applies; the last administrator),
    Forbidden (NOT_YOURS, NOT_FRESH) with `provider` (its display name) in the context."""
    assert user.id is not None
    identity = session.exec(select(UserIdentity).where(UserIdentity.issuer == issuer,
                                                       UserIdentity.subject == subject)).first()
    if identity is None or identity.user_id != user.id or identity.provider_key != provider.key:
        raise Forbidden(NOT_YOURS, provider=provider.name)
    if auth_time is not None:
        try:
            fresh = abs(utcnow() - datetime.fromtimestamp(auth_time, tz=UTC)) <= FRESH_SIGN_IN
        except (OverflowError, OSError, ValueError):
            fresh = False
        if not fresh:
            raise Forbidden(NOT_FRESH, provider=provider.name)
    _erase_account(session, settings, user.id, passwordless=True)


def _erase_account(session: Session, settings: Settings, user_id: int, *, passwordless: bool = False) -> None:
    """Anonymise account `user_id` and remove its personal data, once the person re-authenticated
    (`passwordless`: at a provider, which only an account without a password may do).
    Raises Conflict (already deleted; HAS_PASSWORD; the last administrator)."""
    # The person may be an administrator, or become one, while another administrator is being
    # demoted or is leaving too: decide in turn (this lock first, then the row, which stops two
    # deletions of this account from interleaving), on the account as it is now.
    lock_admin_changes(session)
    locked = session.exec(select(User).where(User.id == user_id).with_for_update()).one()
    if locked.deleted_at is not None:
        raise Conflict(N_("This account has already been deleted."))
    if passwordless and locked.password_hash:
        raise Conflict(HAS_PASSWORD)
    if locked.role == Role.admin:
        ensure_another_admin_remains(session, losing=locked, message=N_(
            "You are the last administrator: appoint another administrator before deleting your account."))

    # Every idea the erasure writes, locked before its first write (app.locks.lock_ideas).
    lock_ideas(session, [idea_id for holding in HOLDINGS if holding.ideas is not None
                         for idea_id in holding.ideas(session, user_id=user_id)])
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
