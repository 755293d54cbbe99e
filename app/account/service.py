"""Accounts: registration, e-mail verification, login, password reset, profile."""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import links, mail
from app.account import passwords
from app.account.models import EmailToken, Role, User
from app.account.sessions import end_all_sessions, start_session
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import N_
from app.ratelimit import service as ratelimit
from app.security import hash_token
from app.settings import LANGUAGES, Settings

EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
VERIFY_TTL = timedelta(days=2)
RESET_TTL = timedelta(minutes=60)
LOGIN_WINDOW = timedelta(minutes=1)
REGISTER_WINDOW = timedelta(hours=1)


class TokenPurpose(StrEnum):
    verify = "verify"
    reset = "reset"


def normalise_email(email: str) -> str:
    """The form of an e-mail address that is stored and compared: trimmed and lowercased."""
    return email.strip().lower()


def clean_display_name(name: str) -> str:
    """A display name with runs of white space folded to one space and no space at either end."""
    return " ".join(name.split())


def find_by_email(session: Session, email: str) -> User | None:
    """The account with this e-mail address (compared normalised), deleted or not; None if there is none."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(session: Session, *, email: str, display_name: str, password: str | None,
                role: Role = Role.citizen, language: str = "fr", verified: bool = False) -> User:
    """Add an account (not committed) and return it with its id. `password` None makes an account that
    cannot log in with a password; `verified` marks the e-mail as confirmed now. Raises
    ValidationFailed with `email` (invalid, over 254 characters or taken, also when a parallel
    registration took it first), `display_name` (2-80 characters) or `password`
    (app.account.passwords rules)."""
    email = normalise_email(email)
    display_name = clean_display_name(display_name)
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = N_("Please enter a valid e-mail address.")
    elif find_by_email(session, email) is not None:
        errors["email"] = N_("An account already exists with this e-mail address.")
    if not 2 <= len(display_name) <= 80:
        errors["display_name"] = N_("Your name must be between 2 and 80 characters.")
    if password is not None:
        problem = passwords.password_problem(password, email=email, name=display_name)
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=passwords.hash_password(password) if password is not None else None,
        role=role,
        language=language if language in LANGUAGES else "fr",
        email_verified_at=utcnow() if verified else None,
    )
    try:
        # In a savepoint: when two people register one address at once, the unique index
        # refuses the second, who gets the same message as if the first had been earlier.
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise ValidationFailed({"email": N_("An account already exists with this e-mail address.")}) from exc
    return user


def register(session: Session, settings: Settings, *, email: str, display_name: str, password: str,
             language: str, client_ip: str) -> User:
    """A citizen's own registration: the account and a verification e-mail queued in the outbox. Raises
    RateLimited when too many accounts were created from `client_ip` this hour
    (settings.registrations_per_hour), ValidationFailed as create_user."""
    key = f"register:{client_ip}"
    ratelimit.check(session, key, limit=settings.registrations_per_hour, window=REGISTER_WINDOW,
                    message=N_("Too many accounts were created from your connection. Please try again later."))
    user = create_user(session, email=email, display_name=display_name, password=password,
                       language=language)
    ratelimit.record(session, key)
    send_verification(session, settings, user)
    return user


def _issue_token(session: Session, user: User, purpose: TokenPurpose, ttl: timedelta) -> str:
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(EmailToken(token_hash=hash_token(token), purpose=purpose, user_id=user.id,
                           expires_at=utcnow() + ttl))
    return token


def _consume_token(session: Session, token: str, purpose: TokenPurpose) -> User | None:
    """The token's user if the token is valid; marks it used. None if unknown, used or expired."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose)
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    row.used_at = utcnow()
    session.add(row)
    return session.get(User, row.user_id)


def peek_token(session: Session, token: str, purpose: TokenPurpose) -> bool:
    """Whether a token is currently usable, without using it (to show the right page)."""
    if not token or len(token) > 100:
        return False
    row = session.exec(
        select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose)
    ).first()
    return row is not None and row.used_at is None and row.expires_at >= utcnow()


def send_verification(session: Session, settings: Settings, user: User) -> None:
    """Queue an e-mail with a new single-use verification link for `user` (valid 48 hours)."""
    token = _issue_token(session, user, TokenPurpose.verify, VERIFY_TTL)
    mail.queue_email(session, to=user.email, template="verify_email", lang=user.language, user_id=user.id,
                     name=user.display_name,
                     link=settings.absolute_url(links.path("account:verify", _query={"token": token})))


def verify_email(session: Session, token: str) -> User | None:
    """Use a verification link: the token's user, with the e-mail marked confirmed; None when the token is
    unknown, used or expired (nothing changes)."""
    user = _consume_token(session, token, TokenPurpose.verify)
    if user is not None and user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.add(user)
    return user


@dataclass
class LoginResult:
    user: User
    session_token: str


def login(session: Session, settings: Settings, *, email: str, password: str, user_agent: str = "") -> LoginResult:
    """Check the password; a failure is recorded (the caller commits it) and raises."""
    email = normalise_email(email)
    key = f"login:{email}"
    ratelimit.check(session, key, limit=settings.login_attempts_per_minute, window=LOGIN_WINDOW,
                    message=N_("Too many failed attempts for this account. Please wait a minute and try again."))
    user = find_by_email(session, email)
    if user is None:
        passwords.verify_password(passwords.DUMMY_HASH, password)
    valid = user is not None and passwords.verify_password(user.password_hash, password)
    if user is None or not valid or user.deleted_at is not None:
        ratelimit.record(session, key)
        raise ValidationFailed({"password": N_("The e-mail address or the password is incorrect.")})
    if user.banned_at is not None:
        raise ValidationFailed({"email": N_("This account has been suspended.")})
    ratelimit.clear(session, key)
    return LoginResult(user=user, session_token=start_session(session, user, days=settings.session_days,
                                                              user_agent=user_agent))


def request_password_reset(session: Session, settings: Settings, *, email: str, client_ip: str) -> None:
    """Sends a reset link if the account exists. Says nothing either way to the caller."""
    key = f"reset:{client_ip}"
    ratelimit.check(session, key, limit=10, window=timedelta(hours=1))
    ratelimit.record(session, key)
    user = find_by_email(session, email)
    if user is None or user.deleted_at is not None or user.banned_at is not None:
        return
    token = _issue_token(session, user, TokenPurpose.reset, RESET_TTL)
    mail.queue_email(session, to=user.email, template="password_reset", lang=user.language, user_id=user.id,
                     name=user.display_name,
                     link=settings.absolute_url(links.path("account:reset", _query={"token": token})))


def reset_password(session: Session, *, token: str, password: str) -> User:
    """Set a new password with a reset link and end every session of the account. Raises ValidationFailed
    with `token` (unknown, used, expired, or used by a parallel request a moment earlier) or
    `password` (app.account.passwords rules; the token is then used up)."""
    invalid = ValidationFailed({"token": N_("This link is no longer valid. Please ask for a new one.")})
    if not peek_token(session, token, TokenPurpose.reset):
        raise invalid
    # Consumed under a row lock: of two requests racing with one link, the second finds it used.
    row_user = _consume_token(session, token, TokenPurpose.reset)
    if row_user is None or row_user.id is None:
        raise invalid
    problem = passwords.password_problem(password, email=row_user.email, name=row_user.display_name)
    if problem:
        raise ValidationFailed({"password": problem})
    row_user.password_hash = passwords.hash_password(password)
    # Following the link proves the mailbox, and a reset must lock out whoever had the password.
    row_user.email_verified_at = row_user.email_verified_at or utcnow()
    session.add(row_user)
    end_all_sessions(session, row_user.id)
    return row_user


def update_profile(session: Session, user: User, *, display_name: str, language: str) -> User:
    """Change the display name and interface language (a language the platform does not offer is ignored).
    Raises ValidationFailed with `display_name` (2-80 characters)."""
    display_name = clean_display_name(display_name)
    if not 2 <= len(display_name) <= 80:
        raise ValidationFailed({"display_name": N_("Your name must be between 2 and 80 characters.")})
    user.display_name = display_name
    user.language = language if language in LANGUAGES else user.language
    session.add(user)
    return user
