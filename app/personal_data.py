"""The contract between the domains and a person's export and erasure (app.account.privacy).

Each domain that keeps something about a person says so in its own `privacy.py`, as one or
more `Holding`s: the section of the export it fills, and how its rows go when the account is
deleted. app/privacy_registry.py lists every holding in one place; app.account.privacy walks
that list. The export holds what the person wrote and did, never another person's private data.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from app.account.models import User
from app.settings import Settings


class Export(Protocol):
    """A section of the export: JSON-ready data about `user` (links absolute, from `base_url`)."""

    def __call__(self, session: Session, *, user: User, base_url: str) -> Any: ...


class Erase(Protocol):
    """Remove, or detach from the person, what the domain keeps about user `user_id`, in the
    deletion's transaction (counters follow the rows). Returns figures for the audit entry of
    the deletion (e.g. {"votes_withdrawn": 2}), often none."""

    def __call__(self, session: Session, *, user_id: int, settings: Settings) -> dict[str, int]: ...


class IdeasWritten(Protocol):
    """The ids of the ideas whose rows `Erase` writes for user `user_id` (directly, or through
    the triggers of the rows it changes): the deletion locks them all, in ascending id, before
    its first write (app.account.privacy)."""

    def __call__(self, session: Session, *, user_id: int) -> list[int]: ...


@dataclass(frozen=True)
class Holding:
    """What one domain keeps about a person. `name` is its key in the export; a holding without
    `export` is not part of it (it is exported by another section, or holds nothing the person
    gave); one without `erase` stays as it is when the account is deleted, tied to the
    anonymised account (the reason is given where the holding is declared). A holding whose
    erasure writes ideas' rows says which in `ideas`: each such write moves shared rows of
    counters (app.locks.lock_ideas says why they must be locked first)."""

    name: str
    export: Export | None = None
    erase: Erase | None = None
    ideas: IdeasWritten | None = None


def when(value: datetime | None) -> str | None:
    """A moment in the export: ISO 8601 with its offset, or None."""
    return value.isoformat() if value is not None else None
