"""Keeping the index up to date through the outbox, and rebuilding it.

Every change of an idea that may change its words or whether it is public calls
`reindex_later` (app.search.queue) in the same transaction; the worker then reads the idea as it is now and
indexes it or takes it out (`handle`). A search engine that fails never blocks the change
itself: the message is retried by the outbox."""

from typing import Any

from sqlmodel import Session, col, select

from app.db import Database
from app.idea.models import Idea
from app.search.backend import SearchBackend, document_for, indexable_condition
from app.search.engines import backend_for, database_backend
from app.search.meili import MeiliBackend
from app.search.queue import REINDEX_KIND, reindex_later
from app.settings import Settings

__all__ = ["REINDEX_KIND", "handle", "rebuild", "rebuild_with", "reindex", "reindex_later",
           "reindex_with"]
BATCH = 500


def reindex(session: Session, idea_id: int, settings: Settings | None = None) -> bool:
    """Index idea `idea_id` if it belongs in the index now, else take it out. True if indexed.
    With Meilisearch configured in `settings`, both indexes follow (app.search.engines); a
    Meilisearch failure raises app.search.meili.IndexingFailed."""
    return reindex_with(session, idea_id, backend_for(session, settings))


def reindex_with(session: Session, idea_id: int, backend: SearchBackend) -> bool:
    """`reindex` into `backend` only."""
    idea = session.exec(select(Idea).where(col(Idea.id) == idea_id, indexable_condition())).first()
    if idea is None:
        backend.remove(session, [idea_id])
        return False
    backend.index(session, [document_for(idea)])
    return True


def handle(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The outbox handler of REINDEX_KIND: idempotent, it reads the idea at run time. The
    database's index is committed first, so that the searches it answers while Meilisearch is
    down find the change; then Meilisearch's, if configured, whose failure raises
    (app.search.meili.IndexingFailed) so that the outbox tries again."""
    idea_id = int(payload["idea_id"])
    with db.transaction() as session:
        reindex_with(session, idea_id, database_backend(session))
    if settings.meili_url:
        with db.transaction() as session:
            reindex_with(session, idea_id, MeiliBackend(settings))


def rebuild(session: Session, settings: Settings | None = None) -> int:
    """Empty the index and index every idea that belongs in it, in batches. Returns the count.
    With Meilisearch configured in `settings`, rebuilds its index (settings included) too."""
    return rebuild_with(session, backend_for(session, settings))


def rebuild_with(session: Session, backend: SearchBackend) -> int:
    """`rebuild` into `backend`: empty it, then index every idea that belongs in it, in batches
    of BATCH. Returns the count."""
    backend.clear(session)
    count = 0
    last_id = 0
    while True:
        ideas = session.exec(select(Idea).where(indexable_condition(), col(Idea.id) > last_id)
                             .order_by(col(Idea.id)).limit(BATCH)).all()
        if not ideas:
            return count
        backend.index(session, [document_for(i) for i in ideas])
        count += len(ideas)
        last_id = ideas[-1].id or last_id
