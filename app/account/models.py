"""Accounts: people, their server-side sessions and single-use e-mail tokens."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Role(StrEnum):
    citizen = "citizen"
    moderator = "moderator"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True, index=True)
    display_name: str = Field(sa_type=sa.String(80))
    # None for people who only sign in through an OpenID Connect provider.
    password_hash: str | None = Field(default=None, sa_type=sa.String(200))
    role: str = Field(default=Role.citizen, sa_type=sa.String(16))
    language: str = Field(default="fr", sa_type=sa.String(5))
    email_verified_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    banned_at: datetime | None = None
    ban_reason: str | None = Field(default=None, sa_type=sa.Text)
    deleted_at: datetime | None = None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.moderator, Role.admin)


class UserSession(SQLModel, table=True):
    """A login. The cookie holds a random token; only its SHA-256 is stored, so a leaked
    database does not hand out live sessions. Deleting the row logs the session out."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    user_agent: str = Field(default="", sa_type=sa.String(200))


class EmailToken(SQLModel, table=True):
    """Single-use links sent by e-mail (verification, password reset, change of address), stored
    hashed. `new_email` is the address a change of address moves to (purpose "email_change"),
    applied only when the link sent there is used; None for the other purposes."""

    __tablename__ = "email_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    purpose: str = Field(sa_type=sa.String(20))
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    new_email: str | None = Field(default=None, sa_type=sa.String(254))


class UserIdentity(SQLModel, table=True):
    """An account at an OpenID Connect provider linked to a person's account here: found again by
    (issuer, subject), the provider's own stable name for the person. `email` is the address the
    provider gave at the last login (for the person's account page and export), `claims` the
    configured extra claims kept (JSON text, {} when none)."""

    __tablename__ = "user_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    provider_key: str = Field(sa_type=sa.String(32))
    issuer: str = Field(sa_type=sa.String(300))
    subject: str = Field(sa_type=sa.String(255))
    email: str = Field(default="", sa_type=sa.String(254))
    claims: str = Field(default="{}", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime = Field(default_factory=utcnow)


class OidcAttempt(SQLModel, table=True):
    """A sign-in with a provider under way: what Authlib keeps between sending the browser to the
    provider and its return (state, nonce, PKCE code verifier, redirect URI), held here rather
    than in a cookie. The browser holds only a random token whose SHA-256 is `token_hash`; the row
    is deleted when the browser comes back (used once, whatever the outcome) and is worthless
    after `expires_at` (minutes). `user_id` is set when a logged-in person links an identity."""

    __tablename__ = "oidc_attempt"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    provider_key: str = Field(sa_type=sa.String(32))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="CASCADE")
    data: str = Field(sa_type=sa.Text)
    next_path: str = Field(default="/", sa_type=sa.String(2000))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
