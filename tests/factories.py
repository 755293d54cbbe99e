"""Typed factories for test data. They add and flush; the caller commits."""

import itertools

from sqlmodel import Session

from app.account.models import Role, User
from app.account.passwords import hash_password
from app.clock import utcnow

DEFAULT_PASSWORD = "un mot de passe solide"  # noqa: S105 - test credential
# Hashing with argon2 costs ~50 ms: do it once for every factory-made user.
_DEFAULT_HASH = hash_password(DEFAULT_PASSWORD)
_counter = itertools.count(1)


def make_user(session: Session, *, email: str | None = None, display_name: str | None = None,
              role: Role | str = Role.citizen, verified: bool = True, language: str = "fr",
              password: str | None = None) -> User:
    n = next(_counter)
    user = User(
        email=email or f"person{n}@example.org",
        display_name=display_name or f"Personne {n}",
        role=role,
        language=language,
        password_hash=hash_password(password) if password else _DEFAULT_HASH,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    return user
