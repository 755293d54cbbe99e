"""Which search engine answers: the database's own full text (FTS5 on SQLite, full text on
PostgreSQL), or Meilisearch when MEILI_URL is set, with the database answering whenever
Meilisearch cannot (refused connection, timeout, 5xx): the page still answers, and a warning is
logged without any key. Indexing goes to both, so that a search the database answers finds
everything too, and a Meilisearch failure while indexing raises (the outbox tries again).

Kept apart from app.search.backend (the contract), which every backend imports."""

import logging
from urllib.parse import urlsplit

from sqlmodel import Session

from app.idea.models import Idea
from app.observability import metrics
from app.search.backend import (
    SIMILAR_LIMIT,
    SIMILAR_MAX_TEXT,
    SIMILAR_MIN_TITLE,
    IdeaDocument,
    SearchBackend,
    SearchQuery,
    SearchResults,
)
from app.search.meili import MeiliBackend, Unavailable
from app.search.postgres import PostgresBackend
from app.search.sqlite_fts import SqliteBackend
from app.settings import Settings

log = logging.getLogger(__name__)


def database_backend(session: Session) -> SearchBackend:
    """The database backend of the session's engine: FTS5 on SQLite, full text on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return PostgresBackend()
    return SqliteBackend()


def _where(url: str) -> str:
    """Meilisearch's address for a log: scheme, host and port only (never a user or password)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


class WithFallback:
    """Meilisearch (`primary`) with the database backend (`fallback`) behind it: searches fall back
    when Meilisearch is unavailable; index changes go to the database first, then Meilisearch."""

    def __init__(self, primary: MeiliBackend, fallback: SearchBackend) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        self.corrects_typos = primary.corrects_typos

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        self.fallback.index(session, documents)
        self.primary.index(session, documents)

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        self.fallback.remove(session, idea_ids)
        self.primary.remove(session, idea_ids)

    def clear(self, session: Session) -> None:
        self.fallback.clear(session)
        self.primary.clear(session)

    def _warn(self, what: str, error: Unavailable) -> None:
        metrics.SEARCH_FALLBACKS.inc()
        log.warning("search: Meilisearch at %s %s; the %s backend answered the %s instead",
                    _where(self.primary.url), error.reason, self.fallback.name, what)

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        try:
            return self.primary.search(session, query)
        except Unavailable as error:
            self._warn("search", error)
            return self.fallback.search(session, query)

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        try:
            return self.primary.similar(session, call_id, text, exclude_id, limit)
        except Unavailable as error:
            self._warn("similar ideas", error)
            return self.fallback.similar(session, call_id, text, exclude_id, limit)


def backend_for(session: Session, settings: Settings | None = None) -> SearchBackend:
    """The backend that searches and indexes: Meilisearch falling back to the database when
    `settings.meili_url` is set, else the database backend (also without `settings`: scripts and
    tests that only want the database's index)."""
    database = database_backend(session)
    if settings is not None and settings.meili_url:
        return WithFallback(MeiliBackend(settings), database)
    return database


def suggest(session: Session, settings: Settings | None, call_id: int, title: str, body: str = "",
            exclude_id: int | None = None) -> list[Idea]:
    """Similar public ideas of call `call_id` for an idea being written or moderated (`title`,
    `body`), by `backend_for(session, settings)`: [] while the title has fewer than
    SIMILAR_MIN_TITLE characters or no word to look for. Never raises on what people type."""
    if len(title.strip()) < SIMILAR_MIN_TITLE:
        return []
    return backend_for(session, settings).similar(session, call_id, f"{title[:SIMILAR_MAX_TEXT]} {body}", exclude_id)
