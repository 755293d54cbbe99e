"""Accounts at OpenID Connect providers linked to accounts here (`UserIdentity`): the first
sign-in that creates an account, the later ones that find it, linking from the account page,
unlinking, and the person's export and erasure of them.

A provider's identity is found only by (issuer, subject), never by e-mail: an address at a
provider proves nothing about who owns the account here with that address (the provider may not
have verified it, or may let anyone claim it). So a first sign-in whose e-mail belongs to an
existing account is refused, and the person links the provider from their account page after
logging in with their password. Staff accounts are never linked (app.authz,
Action.identity_link). The web side (Authlib, state, nonce, PKCE) is in app.account.oidc.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.account import service
from app.account.models import OidcAttempt, User, UserIdentity
from app.clock import utcnow
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.personal_data import Holding, when
from app.settings import OidcProvider, Settings

EMAIL_TAKEN = N_("An account already uses the e-mail address {provider} gave us. Log in with your password "
                 "first, then link your {provider} account from your account page.")
NO_EMAIL = N_("{provider} did not give us an e-mail address, which an account needs. "
              "Please allow it, or register with an e-mail address and a password.")
LINKED_ELSEWHERE = N_("This {provider} account is already linked to another account here.")
ACCOUNT_CLOSED = N_("This account cannot be used.")
LAST_WAY_IN = N_("This is your only way to log in: set a password or link another account before you unlink it.")


@dataclass(frozen=True)
class Claims:
    """What a provider said about the person, from a checked ID token: `issuer` and `subject`
    (the identity), `email` ("" when none), `email_verified` (True only when the provider said
    exactly true), `name` (may be ""), `kept` the configured extra claims present."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    kept: dict[str, Any]

    @classmethod
    def from_id_token(cls, provider: OidcProvider, claims: dict[str, Any]) -> "Claims":
        """Read the claims of a validated ID token. Raises ValidationFailed when `iss` or `sub`
        is missing."""
        issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
        if not issuer or not subject or len(subject) > 255 or len(issuer) > 300:
            raise ValidationFailed({"form": N_("The sign-in did not succeed. Please try again.")})
        email = claims.get("email")
        name = claims.get("name") or " ".join(
            str(claims.get(k) or "") for k in ("given_name", "family_name")).strip()
        return cls(issuer=issuer, subject=subject,
                   email=service.normalise_email(email) if isinstance(email, str) else "",
                   email_verified=claims.get("email_verified") is True,
                   name=service.clean_display_name(str(name or "")),
                   kept={k: claims[k] for k in provider.claims if k in claims})


def find(session: Session, claims: Claims) -> UserIdentity | None:
    """The identity (issuer, subject), or None."""
    return session.exec(select(UserIdentity).where(UserIdentity.issuer == claims.issuer,
                                                   UserIdentity.subject == claims.subject)).first()


def _touch(session: Session, identity: UserIdentity, claims: Claims) -> None:
    identity.last_login_at = utcnow()
    identity.email = claims.email[:254]
    identity.claims = json.dumps(claims.kept, ensure_ascii=False, sort_keys=True, default=str)
    session.add(identity)


def _display_name(claims: Claims) -> str:
    name = claims.name[:80]
    if len(name) >= 2:
        return name
    local = claims.email.split("@")[0][:80]
    return local if len(local) >= 2 else "Participant"


def sign_in(session: Session, provider: OidcProvider, claims: Claims, *, language: str = "fr") -> User:
    """The account for this identity: the linked one, or a new one (no password; e-mail
    verified only if the provider said `email_verified` true). Not committed.

    Raises Forbidden (ACCOUNT_CLOSED: the linked account is banned or deleted), Conflict
    (EMAIL_TAKEN: a new account would take an existing account's e-mail; NO_EMAIL) with
    `provider` (its display name) in the context for the message."""
    identity = find(session, claims)
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is None or user.banned_at is not None or user.deleted_at is not None:
            raise Forbidden(ACCOUNT_CLOSED)
        _touch(session, identity, claims)
        return user
    if not claims.email:
        raise Conflict(NO_EMAIL, provider=provider.name)
    if service.find_by_email(session, claims.email) is not None:
        raise Conflict(EMAIL_TAKEN, provider=provider.name)
    try:
        user = service.create_user(session, email=claims.email, display_name=_display_name(claims),
                                   password=None, language=language, verified=claims.email_verified)
    except ValidationFailed as exc:  # a parallel registration took the address, or it is invalid
        if "email" in exc.errors and service.find_by_email(session, claims.email) is not None:
            raise Conflict(EMAIL_TAKEN, provider=provider.name) from exc
        raise Conflict(NO_EMAIL, provider=provider.name) from exc
    assert user.id is not None
    identity = UserIdentity(user_id=user.id, provider_key=provider.key, issuer=claims.issuer,
                            subject=claims.subject)
    _touch(session, identity, claims)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same identity signed in twice at once
        raise Conflict(LINKED_ELSEWHERE, provider=provider.name) from exc
    return user


def link(session: Session, user: User, provider: OidcProvider, claims: Claims) -> UserIdentity:
    """Attach this identity to `user` (who proved it is theirs by logging in here, and at the
    provider just now). Linking it again to the same account only refreshes it. Not committed.
    The caller checks Action.identity_link. Raises Conflict (LINKED_ELSEWHERE) with `provider`."""
    assert user.id is not None
    identity = find(session, claims)
    if identity is not None and identity.user_id != user.id:
        raise Conflict(LINKED_ELSEWHERE, provider=provider.name)
    if identity is None:
        identity = UserIdentity(user_id=user.id, provider_key=provider.key, issuer=claims.issuer,
                                subject=claims.subject)
    _touch(session, identity, claims)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(LINKED_ELSEWHERE, provider=provider.name) from exc
    return identity


def for_user(session: Session, user_id: int) -> list[UserIdentity]:
    """The identities linked to account `user_id`, oldest first."""
    return list(session.exec(select(UserIdentity).where(UserIdentity.user_id == user_id)
                             .order_by(col(UserIdentity.id))).all())


def unlink(session: Session, user: User, identity_id: int) -> UserIdentity:
    """Remove one of `user`'s identities. Not committed. The account row is locked first so
    that two unlinks at once cannot leave it with no way in. Raises NotFound when the identity
    is not theirs, Conflict (LAST_WAY_IN) when it is their last way in (no
    password and no other identity)."""
    assert user.id is not None
    locked = session.exec(select(User).where(User.id == user.id).with_for_update()).one()
    identity = session.get(UserIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise NotFound()
    count = session.exec(select(func.count()).select_from(UserIdentity)
                         .where(UserIdentity.user_id == user.id)).one()
    if not locked.password_hash and count <= 1:
        raise Conflict(LAST_WAY_IN)
    session.delete(identity)
    session.flush()
    return identity


# Personal data (app.privacy_registry) ----------------------------------------------------------

def export_identities(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Each identity linked to `user`: provider key, issuer, subject, the e-mail the provider
    gave, the claims kept, when it was linked and last used."""
    assert user.id is not None
    return [{"provider": i.provider_key, "issuer": i.issuer, "subject": i.subject, "email": i.email,
             "claims": json.loads(i.claims or "{}"), "created_at": when(i.created_at),
             "last_login_at": when(i.last_login_at)} for i in for_user(session, user.id)]


def erase_identities(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's identities (a later sign-in with the same identity makes a new,
    empty account) and any sign-in under way for them. Returns no figure."""
    session.execute(delete(UserIdentity).where(col(UserIdentity.user_id) == user_id))
    session.execute(delete(OidcAttempt).where(col(OidcAttempt.user_id) == user_id))
    return {}


IDENTITIES = Holding("identities", export=export_identities, erase=erase_identities)
