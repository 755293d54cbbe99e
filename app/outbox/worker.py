"""The background worker: carries out outbox messages until stopped."""

import logging
import signal
import time
from functools import partial
from typing import Any

from app import links, mail
from app.announce import service as announce_service
from app.db import Database
from app.main import ROUTERS
from app.media import service as media_service
from app.notify import delivery, digest, periods
from app.outbox import service as outbox
from app.ratelimit import service as ratelimit
from app.search import indexing as search_indexing
from app.settings import Settings
from app.submission import service as submission_service

log = logging.getLogger(__name__)


def handlers(settings: Settings, db: Database) -> dict[str, outbox.Handler]:
    """Every kind of outbox message and what carries it out. E-mails are checked again against
    the database just before they are sent (app.notify.delivery)."""
    return {
        mail.EMAIL_KIND: partial(delivery.deliver_email, settings, db),
        periods.DIGEST_JOB: partial(digest.run, settings, db),
        # Announcements: published at their scheduled time, then handed to the channels (none yet).
        announce_service.PUBLISH_KIND: partial(announce_service.run_publish_due, db),
        announce_service.DELIVER_KIND: partial(announce_service.deliver, db),
        search_indexing.REINDEX_KIND: partial(search_indexing.handle, db),
    }


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
    table = handlers(settings, db)
    last_prune = 0.0
    log.info("worker started")
    while not stopping:
        handled = outbox.run_pending(db, table)
        if time.monotonic() - last_prune > 3600:
            with db.transaction() as session:
                # Counts and records that only matter for a day.
                ratelimit.prune(session)
                media_service.prune_charges(session)
                submission_service.prune(session)
            last_prune = time.monotonic()
        if not handled:
            time.sleep(idle_seconds)
    log.info("worker stopped")
