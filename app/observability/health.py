"""Liveness and readiness, as orchestrators and load balancers ask them (Kubernetes' probes,
a proxy's health check): liveness says the process answers and asks nothing else, so that a
database outage does not get every server process restarted; readiness says whether this
process can serve pages now: the database answers, the media storage takes a file, and search
answers (Meilisearch when configured; without it, or when it is down, the database answers
searches, so the process stays ready and the check says "degraded"); so does Redis when
configured (app.redis_link: when it is down, the database counts rate limits and keeps the
page generation: "degraded", still ready)."""

import logging
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.media import storage as media_storage
from app.observability import errors
from app.settings import Settings

log = logging.getLogger(__name__)

OK, FAILED, DEGRADED = "ok", "unavailable", "degraded"


@dataclass
class Readiness:
    """Each check's outcome by name ("ok", "unavailable" or "degraded"), and whether the
    process is ready: every check but search and Redis ok."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """True when the database and the storage are ok (search and Redis may be degraded)."""
        return all(outcome != FAILED for outcome in self.checks.values())


def _database(db: Database) -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: the database does not answer: %s", errors.describe(exc))
        return FAILED
    return OK


def _storage(settings: Settings) -> str:
    """OK when each storage area the web processes write takes a file now (app.media.storage:
    folders under DATA_DIR, or the S3 bucket): public media, staff-only media (scans of paper
    ideas) and spreadsheets waiting for an import's confirmation."""
    for area in media_storage.AREAS:
        try:
            media_storage.storage(settings, area).check()
        except media_storage.StorageError as exc:
            log.warning("readiness: the storage takes no file: %s", errors.describe(exc))
            return FAILED
    return OK


def _search(settings: Settings) -> str:
    if not settings.meili_url:
        return OK  # the database's own full-text index, checked with the database
    try:
        answer = httpx.get(settings.meili_url.rstrip("/") + "/health", timeout=settings.meili_timeout_ms / 1000)
        if answer.status_code == 200 and answer.json().get("status") == "available":
            return OK
        log.warning("readiness: Meilisearch answers %s", answer.status_code)
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("readiness: Meilisearch does not answer: %s", errors.describe(exc))
    return DEGRADED


def _redis(db: Database) -> str:
    if db.redis is None:
        return OK  # not configured: the database does its work, checked with the database
    return OK if db.redis.ping() else DEGRADED  # the link logs the failure, once per outage


def readiness(settings: Settings, db: Database) -> Readiness:
    """Run the four checks now (each bounded: the database's connect timeout, a local file,
    Meilisearch's `MEILI_TIMEOUT_MS`, Redis's `REDIS_TIMEOUT_MS`). Details of a failure go to the
    log, never to the answer."""
    return Readiness({"database": _database(db), "storage": _storage(settings), "search": _search(settings),
                      "redis": _redis(db)})
