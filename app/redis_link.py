"""The optional Redis server shared by every process on every machine (settings.redis_url).

Unset (the default), nothing here runs: rate limits are counted in the database
(app.ratelimit) and the page generation is the database's (app.pagecache.generation). Set, both
go through Redis, which spares the database a row per counted hit and a query per cached page.

Redis is an accelerator, never a dependency: every caller has the database to fall back on.
`RedisLink.run` answers None instead of raising when Redis fails, and then rests: for
`REST_SECONDS` no request tries it again (an unreachable server costs one short timeout per
outage, not one per request). The outage and the recovery are logged once each, with the
server's host and port only: the URL may hold a password.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
REST_SECONDS = 5.0  # after a failure, how long the database answers alone before Redis is tried again
# Redis failing: its errors, and what redis-py raises when a reply is not of the kind the command
# expects (a REDIS_URL naming another service, a broken proxy in front of Redis), which would
# otherwise be a 500 on every page.
_FAILURES = (redis.RedisError, ValueError, TypeError, AttributeError, IndexError, KeyError)
SESSION_KEY = "redis_link"  # in a database session's info (app.db): the link its rate limits use


class RedisLink:
    """One Redis server, its key prefix and its health as this process last saw it.

    `prefix` starts every key (settings.redis_prefix): several platforms, or tests, can share
    one server without seeing each other's counters."""

    def __init__(self, url: str, *, prefix: str, timeout_seconds: float) -> None:
        parts = urlsplit(url)
        # For logs (and app.pagecache's key of the generation): the server, never the password.
        self.where = parts.path if parts.scheme == "unix" else f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
        self.prefix = prefix
        # One retry on a fresh connection (a pooled one the server closed while idle), no backoff:
        # redis-py's default (3 retries with backoff) would hold a request for seconds when Redis is down.
        self.client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds,
                                           socket_timeout=timeout_seconds, retry=Retry(NoBackoff(), 1),
                                           decode_responses=True)
        self._lock = threading.Lock()
        self._resting_until = 0.0
        self._down = False

    def key(self, name: str) -> str:
        """`name` under this deployment's prefix."""
        return f"{self.prefix}{name}"

    def run(self, what: str, command: Callable[[redis.Redis], T], *, even_if_resting: bool = False) -> T | None:
        """`command(client)`'s result, or None when Redis fails (or failed less than REST_SECONDS
        ago, unless `even_if_resting`): the caller then does its work with the database. `what`
        names the work in the log line of an outage ("count a rate limit")."""
        if not even_if_resting and time.monotonic() < self._resting_until:
            return None
        try:
            result = command(self.client)
        except _FAILURES as exc:
            with self._lock:
                self._resting_until = time.monotonic() + REST_SECONDS
                first = not self._down
                self._down = True
            if first:
                log.warning("Redis at %s does not answer (%s: %s): the database takes over until it does "
                            "(first failed: %s)", self.where, type(exc).__name__, _answer(exc), what)
            return None
        if self._down:
            with self._lock:
                recovered, self._down = self._down, False
            if recovered:
                log.warning("Redis at %s answers again: rate limits and the page generation are back on it",
                            self.where)
        return result

    def refuse_if_read_only(self, pipe: Any) -> None:
        """Queue on `pipe` a write that writes nothing (SET NX of a key that is there, after the
        first time), so that the pipeline fails, and the caller falls back on the database, when
        Redis answers reads but refuses writes (a replica after a failover, a read-only account,
        full memory). Reading from such a Redis while writing to the database would read a store
        that misses every write: a rate limit's count found empty after each rest, a page
        generation that never changes."""
        pipe.set(self.key("writable"), "1", nx=True)

    def ping(self) -> bool:
        """Whether Redis takes a write now (the readiness check), whatever the last command did.
        A write, not a PING: a Redis that answers but refuses writes (a replica, a read-only
        account, full memory) leaves the work to the database, and its PING would announce a
        recovery that the next command contradicts, in the log at every probe."""
        def check(client: redis.Redis) -> bool:
            pipe = client.pipeline(transaction=False)
            pipe.set(self.key("readiness"), "1", ex=60)
            pipe.ping()  # and PONG: a server answering OK to everything is not Redis
            return all(pipe.execute())

        return bool(self.run("answer the readiness check", check, even_if_resting=True))

    def close(self) -> None:
        """Close the pooled connections (the application's shutdown)."""
        self.client.close()


# redis-py's error for a command of a pipeline names it with its arguments: a rate limit's key
# holds an e-mail address or a visitor's address, which have no place in the logs.
_PIPELINE_COMMAND = re.compile(r"^Command # \d+ \(.*\) of pipeline caused error: ", re.DOTALL)


def _answer(exc: Exception) -> str:
    """The error's text without the command it names (Redis's answer, or the connection's)."""
    return _PIPELINE_COMMAND.sub("", str(exc))


def connect(settings: Settings) -> RedisLink | None:
    """The link to settings.redis_url, or None when it is unset. Connects lazily: a server down
    at start-up is found, and logged, by the first command."""
    url = settings.redis_url.get_secret_value()
    if not url:
        return None
    return RedisLink(url, prefix=settings.redis_prefix, timeout_seconds=settings.redis_timeout_ms / 1000)
