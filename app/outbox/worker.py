"""The background worker: carries out outbox messages until stopped."""

import fcntl
import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from app import links, mail
from app.announce import delivery as announce_delivery
from app.announce import events as announce_events
from app.announce import replies as announce_replies
from app.announce import sending as announce_sending
from app.announce import service as announce_service
from app.assistant import mentions as assistant_mentions
from app.assistant import privacy as assistant_privacy
from app.budget import reminder as budget_reminder
from app.clock import utcnow
from app.db import Database
from app.intake import sheets as intake_sheets
from app.main import ROUTERS
from app.media import service as media_service
from app.media import storage as media_storage
from app.notify import audiences, delivery, digest, fanout, periods
from app.outbox import service as outbox
from app.ratelimit import service as ratelimit
from app.search import indexing as search_indexing
from app.settings import Settings
from app.submission import service as submission_service

log = logging.getLogger(__name__)


def _idea_changed(settings: Settings, db: Database, message_id: int, payload: dict[str, Any]) -> None:
    # The announcements first: a search engine that is down (the outbox retries the message,
    # and both steps are idempotent) must not delay withdrawing posts about a hidden idea.
    with db.transaction() as session:
        announce_delivery.follow_idea(session, int(payload["idea_id"]))
    search_indexing.handle(settings, db, message_id, payload)


def handlers(settings: Settings, db: Database) -> dict[str, outbox.Handler]:
    """Every kind of outbox message and what carries it out. E-mails are checked again against
    the database just before they are sent (app.notify.delivery)."""
    return {
        mail.EMAIL_KIND: partial(delivery.deliver_email, settings, db),
        periods.DIGEST_JOB: partial(digest.run, settings, db),
        # Announcements: published at their scheduled time, then delivered to each channel.
        announce_service.PUBLISH_KIND: partial(announce_service.run_publish_due, db),
        announce_delivery.DELIVER_KIND: partial(announce_sending.deliver, settings, db),
        announce_delivery.DELETE_KIND: partial(announce_sending.delete_sent, settings, db),
        announce_delivery.COLLECT_KIND: partial(announce_replies.collect, settings, db),
        announce_events.DRAFT_KIND: partial(announce_events.run, settings, db),
        # The assistant answers mentions of the city's Mastodon account, through the same queue.
        assistant_mentions.POLL_KIND: partial(assistant_mentions.poll, settings, db),
        # Participatory budgets: the reminder to confirm a ballot before voting closes.
        budget_reminder.REMIND_KIND: partial(budget_reminder.run, settings, db),
        # News for many people: the pages after those told by the action itself.
        audiences.FANOUT_KIND: partial(fanout.run, settings, db),
        # A change of an idea: the search index follows, and so do the announcements about it.
        search_indexing.REINDEX_KIND: partial(_idea_changed, settings, db),
    }


@contextmanager
def sqlite_worker_lock(db: Database, stopping: Callable[[], bool]) -> Iterator[bool]:
    """On SQLite, one worker at a time: an exclusive lock on a file beside the database
    (`<file>.worker-lock`, flock). A second worker waits, saying so once in the log, until the
    first stops or `stopping()` turns true. Yields whether this worker holds the lock (always
    True on PostgreSQL, where workers share the queue with FOR UPDATE SKIP LOCKED)."""
    database = db.engine.url.database
    if not db.is_sqlite or not database or database == ":memory:":
        yield True
        return
    with Path(f"{database}.worker-lock").open("a") as handle:
        said = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not said:
                    log.warning("another worker runs on this SQLite database; waiting for it to stop")
                    said = True
                if stopping():
                    yield False
                    return
                time.sleep(0.5)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_forever(settings: Settings, db: Database, idle_seconds: float = 1.0, install_signals: bool = True) -> None:
    """Carry out outbox messages until SIGTERM or SIGINT (or forever, in the demo's thread),
    sleeping `idle_seconds` when none is due; prunes day-long records once an hour."""
    # E-mails link to pages by route name; a worker runs in a process with no app to bind them.
    links.bind(ROUTERS)
    stopping = False

    def stop(*_args: Any) -> None:
        nonlocal stopping
        stopping = True

    if install_signals:  # only the main thread may; the demo runs us in a thread
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    with sqlite_worker_lock(db, lambda: stopping) as holding:
        if holding:
            _run(settings, db, idle_seconds, lambda: stopping)


def _prune_media(settings: Settings, db: Database) -> None:
    """Remove stored files that no row names (a process that died between writing a photo
    and committing its row), in the public and the private media; a storage that does not
    answer is tried again at the next prune."""
    for area in (media_storage.PUBLIC_MEDIA, media_storage.PRIVATE_MEDIA):
        try:
            with db.transaction() as session:
                removed = media_service.prune_orphans(session, settings, area=area)
        except media_storage.StorageError as exc:
            log.warning("media not pruned (%s): %s", area, exc)
            continue
        if removed:
            log.info("removed %s orphan media folders from %s", removed, area)


def _run(settings: Settings, db: Database, idle_seconds: float, stopping: Callable[[], bool]) -> None:
    if db.is_sqlite:
        # The lock says no other worker runs: what is marked running was held by one that died.
        released = outbox.release_running(db)
        if released:
            log.info("took up %s messages a stopped worker held", released)
    with db.transaction() as session:
        # Periodic jobs queue their own next run; this starts the chain (once per slot).
        announce_events.schedule(session, utcnow())
        budget_reminder.schedule(session, utcnow())
        assistant_mentions.schedule(session, utcnow())
    table = handlers(settings, db)
    last_prune = 0.0
    log.info("worker started")
    while not stopping():
        handled = outbox.run_pending(db, table, lease_seconds=settings.outbox_lease_seconds)
        if time.monotonic() - last_prune > 3600:
            with db.transaction() as session:
                # Counts and records that only matter for a day.
                ratelimit.prune(session)
                media_service.prune_charges(session)
                submission_service.prune(session)
                assistant_privacy.purge(session, settings)  # questions past their retention
            intake_sheets.prune_kept(settings)  # spreadsheets previewed but never confirmed
            _prune_media(settings, db)
            last_prune = time.monotonic()
        if not handled:
            time.sleep(idle_seconds)
    log.info("worker stopped")
