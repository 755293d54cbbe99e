"""A person's own account: changing their password and their e-mail address, and the list of
their sessions (where they are logged in) with ending one or all the others.

Both changes are sensitive: whoever holds a stolen session cookie must not be able to turn it
into the account. So each asks for the current password (a wrong one counts towards the login
rate limit of the account, as a failed login does), each tells the person by e-mail at the
address that was theirs, and each is recorded in the audit log (what changed, never the
addresses or the password). A new address takes effect only when the single-use link sent to it
is used (the address is proved), its token stored hashed like every e-mail token.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import links, mail
from app.account import passwords
from app.account.models import EmailToken, User, UserSession
from app.account.service import EMAIL_RE, LOGIN_WINDOW, find_by_email, normalise_email
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.db import get_or_not_found
from app.errors import ValidationFailed
from app.i18n import N_
from app.outbox.service import Cancelled
from app.ratelimit import service as ratelimit
from app.security import hash_token
from app.settings import Settings

EMAIL_CHANGE = "email_change"  # EmailToken.purpose
CONFIRMATION_KEY = "email_change_token_id"  # in a queued confirmation e-mail's payload: its EmailToken
EMAIL_CHANGE_TTL = timedelta(hours=24)
EMAIL_CHANGES_PER_DAY = 5  # links sent to new addresses per account: each is an e-mail to a stranger
EMAIL_CHANGE_WINDOW = timedelta(days=1)

WRONG_PASSWORD = N_("Your current password is not correct.")
TAKEN = N_("An account already exists with this e-mail address.")  # what the registration page says
LINK_INVALID = N_("This link is no longer valid. It may have been used already or have expired.")
NO_PASSWORD_TO_CHANGE = N_("Your account has no password: you sign in with a provider. To set a password, use "
                           "“Forgot your password?”: the link goes to your e-mail address.")
NO_PASSWORD = N_("Your account has no password. To change your address, first set a password with "
                 "“Forgot your password?”: the link goes to your current address.")


def _check_current_password(session: Session, settings: Settings, user: User, password: str) -> None:
    """Raise RateLimited (too many failures for the account this minute: the login's own limit)
    or ValidationFailed({"current_password"}) for a wrong password, whose failure is recorded
    (the caller commits it)."""
    key = f"login:{user.email}"
    ratelimit.check(session, key, limit=settings.login_attempts_per_minute, window=LOGIN_WINDOW,
                    message=N_("Too many failed attempts for this account. Please wait a minute and try again."))
    if not passwords.verify_password(user.password_hash, password):
        ratelimit.record(session, key)
        raise ValidationFailed({"current_password": WRONG_PASSWORD})


# Password --------------------------------------------------------------------------------------

def change_password(session: Session, settings: Settings, user: User, *, current_password: str,
                    new_password: str, end_other_sessions: bool, current_token: str) -> int:
    """Set a new password for `user`, who proves they know the current one. With
    `end_other_sessions`, every other session of the account ends (the one whose cookie value is
    `current_token` stays). Tells the person by e-mail (`password_changed`, no link in it) and
    records it in the audit log. Not committed. Returns how many sessions were ended.

    Raises RateLimited, ValidationFailed with `current_password` (wrong; the failure counts
    towards the login limit, commit it) or `new_password` (app.account.passwords rules, or the
    same as the current one). Nothing changes on an error but the counted failure."""
    assert user.id is not None
    _check_current_password(session, settings, user, current_password)
    problem = passwords.password_problem(new_password, email=user.email, name=user.display_name)
    if problem is None and new_password == current_password:
        problem = N_("Your new password must be different from the current one.")
    if problem:
        raise ValidationFailed({"new_password": problem})
    user.password_hash = passwords.hash_password(new_password)
    session.add(user)
    ended = end_other_sessions_of(session, user, current_token=current_token) if end_other_sessions else 0
    mail.queue_email(session, to=user.email, template="password_changed", lang=user.language, user_id=user.id,
                     name=user.display_name, link=settings.absolute_url(links.path("account:forgot")))
    record(session, actor=user, action=AuditAction.password_changed, target_type=TargetType.user,
           target_id=user.id, details={"sessions_ended": ended})
    return ended


# E-mail address --------------------------------------------------------------------------------

def request_email_change(session: Session, settings: Settings, user: User, *, new_email: str,
                         password: str) -> str:
    """Queue an e-mail to `new_email` with a single-use link (valid EMAIL_CHANGE_TTL, made when
    the e-mail is sent: `with_fresh_link`); the address changes only when it is used
    (`confirm_email_change`). Earlier links of the account for a change stop
    working. Not committed. Returns the normalised new address.

    Raises ValidationFailed with `current_password` (NO_PASSWORD for an account that signs in
    only with a provider; a wrong password, counted like a failed login) or `new_email`
    (invalid, the current one, or TAKEN: the same words the registration page uses, nothing
    more), RateLimited (EMAIL_CHANGES_PER_DAY links a day)."""
    assert user.id is not None
    if not user.password_hash:
        raise ValidationFailed({"current_password": NO_PASSWORD})
    _check_current_password(session, settings, user, password)
    address = normalise_email(new_email)
    if not EMAIL_RE.match(address) or len(address) > 254:
        raise ValidationFailed({"new_email": N_("Please enter a valid e-mail address.")})
    if address == user.email:
        raise ValidationFailed({"new_email": N_("This is already your e-mail address.")})
    if find_by_email(session, address) is not None:
        raise ValidationFailed({"new_email": TAKEN})
    key = f"email-change:{user.id}"
    ratelimit.check(session, key, limit=EMAIL_CHANGES_PER_DAY, window=EMAIL_CHANGE_WINDOW,
                    message=N_("You asked for too many changes of address today. Please try again tomorrow."))
    ratelimit.record(session, key)
    now = utcnow()
    session.execute(update(EmailToken).where(col(EmailToken.user_id) == user.id,
                                             col(EmailToken.purpose) == EMAIL_CHANGE,
                                             col(EmailToken.used_at).is_(None)).values(used_at=now))
    # The link's token is made by the worker when it sends the e-mail (`with_fresh_link`), so
    # that it is never written anywhere, not even in the queued e-mail: until then the row holds
    # the hash of a value nobody keeps.
    row = EmailToken(token_hash=hash_token(secrets.token_urlsafe(32)), purpose=EMAIL_CHANGE, user_id=user.id,
                     expires_at=now + EMAIL_CHANGE_TTL, new_email=address)
    session.add(row)
    session.flush()
    mail.queue_email(session, to=address, template="email_change_confirm", lang=user.language, user_id=user.id,
                     name=user.display_name, link="", extra={CONFIRMATION_KEY: row.id})
    return address


def with_fresh_link(session: Session, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The worker, about to send a confirmation e-mail (its payload names its EmailToken under
    CONFIRMATION_KEY): a new token for the link, its hash stored on the row (the caller commits),
    and the payload with the e-mail composed anew around the link, to the row's new address.
    Only the hash is ever written; a retried sending makes a new link, and the last one sent
    works. Raises Cancelled when the change was replaced, used or expired, or the account is gone."""
    row = session.exec(select(EmailToken).where(EmailToken.id == payload.get(CONFIRMATION_KEY))
                       .with_for_update()).first()
    if row is None or row.used_at is not None or row.expires_at < utcnow() or not row.new_email:
        raise Cancelled("the change of address was replaced, confirmed or has expired")
    person = session.get(User, row.user_id)
    if person is None or person.deleted_at is not None:
        raise Cancelled("recipient deleted their account")
    token = secrets.token_urlsafe(32)
    row.token_hash = hash_token(token)
    session.add(row)
    composed = mail.compose("email_change_confirm", person.language, name=person.display_name,
                            link=settings.absolute_url(links.path("account:email_confirm_form",
                                                                  _query={"token": token})))
    return {**payload, "to": row.new_email, "subject": composed.subject, "body": composed.text,
            "html": composed.html}


def _usable(session: Session, token: str, *, lock: bool = False) -> EmailToken | None:
    if not token or len(token) > 100:
        return None
    query = select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == EMAIL_CHANGE)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None or row.used_at is not None or row.expires_at < utcnow() or not row.new_email:
        return None
    return row


def pending_address(session: Session, token: str) -> str | None:
    """The address a change-of-address link would move to, if the link is still usable."""
    row = _usable(session, token)
    return row.new_email if row is not None else None


def confirm_email_change(session: Session, settings: Settings, *, token: str) -> User:
    """Use a change-of-address link: the account's address becomes the one the link was sent
    to (confirmed: the person opened the link there), the link is used up, and the old address
    gets a notice (`email_changed`). Not committed.

    Raises ValidationFailed with `token` (LINK_INVALID: unknown, used, expired, or the account
    deleted or suspended since) or `new_email` (TAKEN: another account took the address meanwhile); the
    caller then rolls back and nothing changes."""
    row = _usable(session, token, lock=True)  # under a row lock: of two uses at once, one wins
    person = session.get(User, row.user_id) if row is not None else None
    if (row is None or person is None or person.id is None or person.deleted_at is not None
            or person.banned_at is not None):  # a suspended account keeps its address
        raise ValidationFailed({"token": LINK_INVALID})
    row.used_at = utcnow()
    session.add(row)
    address = row.new_email or ""
    if find_by_email(session, address) is not None:
        raise ValidationFailed({"new_email": TAKEN})
    old = person.email
    try:
        # In a savepoint: a registration of the same address committing now is refused by the
        # unique index, and this change with it, the same way.
        with session.begin_nested():
            person.email = address
            person.email_verified_at = utcnow()
            session.add(person)
            session.flush()
    except IntegrityError as exc:
        raise ValidationFailed({"new_email": TAKEN}) from exc
    # The remaining links of the account (verification of the old address, reset) went there.
    session.execute(update(EmailToken).where(col(EmailToken.user_id) == person.id, col(EmailToken.used_at).is_(None))
                    .values(used_at=utcnow()))
    mail.queue_email(session, to=old, template="email_changed", lang=person.language, user_id=person.id,
                     name=person.display_name, new_email=mask_email(address))
    record(session, actor=person, action=AuditAction.email_changed, target_type=TargetType.user,
           target_id=person.id, details={})
    return person


def mask_email(address: str) -> str:
    """An address shown to whoever reads the old mailbox: enough to recognise it, not to copy it
    ("an***@example.org")."""
    local, _at, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"


# Sessions --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionView:
    """One of a person's sessions as their sessions page shows it."""

    id: int
    device: str  # "Firefox on Android", from the User-Agent (summarise_device)
    created_at: datetime
    last_seen_at: datetime
    current: bool  # the session of the browser looking at the page


def sessions_of(session: Session, user: User, *, current_token: str) -> list[SessionView]:
    """The account's sessions that have not expired, the most recently active first."""
    assert user.id is not None
    current_hash = hash_token(current_token) if current_token else ""
    rows = session.exec(select(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
                        .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.id).desc())).all()
    return [SessionView(id=r.id or 0, device=summarise_device(r.user_agent), created_at=r.created_at,
                        last_seen_at=r.last_seen_at, current=r.token_hash == current_hash) for r in rows]


def find_session(session: Session, session_id: int) -> UserSession:
    """A session row by id; NotFound if there is none (whose it is, the caller asks app.authz)."""
    return get_or_not_found(session, UserSession, session_id)


def end_one_session(session: Session, row: UserSession) -> None:
    """End one session (its browser is logged out at its next request). Not committed."""
    session.execute(delete(UserSession).where(col(UserSession.id) == row.id))


def end_other_sessions_of(session: Session, user: User, *, current_token: str) -> int:
    """End every session of `user` but the one whose cookie value is `current_token`; returns
    how many ended. Not committed."""
    result = session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id,
                                                       col(UserSession.token_hash) != hash_token(current_token)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_BROWSERS = (  # order matters: Edge and Opera also say Chrome, Chrome also says Safari
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
    ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"),
)


def summarise_device(user_agent: str) -> str:
    """A browser's User-Agent header as a person recognises their device: "Firefox on Android",
    "Safari on iPhone", or the part that is known ("Linux"), or "" when nothing is. Only
    these known names come out, never the header's own text."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system
