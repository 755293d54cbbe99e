"""Prometheus metrics, in the text exposition format (https://prometheus.io/docs/instrumenting/
exposition_formats/), written by the official client, prometheus-client.

Two kinds:
- measured in each server process as requests come: `reinventons_http_request_duration_seconds`
  (histogram by route name, method and status class) and `reinventons_search_fallbacks_total`
  (searches Meilisearch could not answer). With several server processes (uvicorn `--workers`),
  set `PROMETHEUS_MULTIPROC_DIR` to an empty folder shared by them: each process writes its
  figures there and `/metrics` adds them up (prometheus-client's multiprocess mode);
- read from the database at each scrape, so they are the same whichever process answers and
  cover the worker too: outbox messages waiting, running and failed by kind, the age of the
  oldest message due (the worker's lag), and the announcements' deliveries by status (their
  failures included).
"""

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.announce.models import Delivery
from app.clock import utcnow
from app.outbox.models import OutboxMessage, OutboxStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# This process's own measurements (the client's default registry also holds process and
# platform collectors: CPU, memory, open files, Python's garbage collector).
REQUEST_SECONDS = Histogram(
    "reinventons_http_request_duration_seconds", "Time to answer a request, by route name, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PAGE_CACHE = Counter(
    "reinventons_page_cache_requests_total",
    "Requests by what the page cache did: hit (served from memory), miss (made and maybe kept), "
    "bypass (not cacheable: logged in, not a page, not a GET). Hit rate: hit / (hit + miss).",
    ["result"])
# Its three series, looked up once (see _REQUEST_CHILDREN).
PAGE_CACHE_HIT, PAGE_CACHE_MISS, PAGE_CACHE_BYPASS = (PAGE_CACHE.labels(result=r) for r in ("hit", "miss", "bypass"))
SEARCH_FALLBACKS = Counter(
    "reinventons_search_fallbacks_total",
    "Searches Meilisearch refused, failed or did not answer in time, answered by the database.")

# Outbox states worth watching: done and cancelled rows are history, and grow without bound.
WATCHED = (OutboxStatus.pending, OutboxStatus.running, OutboxStatus.failed)


# The histogram's children by (route, method, status class): `labels()` looks a child up under
# the metric's lock and builds its key anew on every call; prometheus_client's documentation
# advises keeping the child. The set is bounded as the labels are (route names, methods, 5 classes).
_REQUEST_CHILDREN: dict[tuple[str, str, int], Any] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request: `route` its route name, `status` its HTTP status (kept as
    its class, "2xx".."5xx", to bound the series), `seconds` the time to answer it."""
    key = (route, method, status // 100)
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = _REQUEST_CHILDREN[key] = REQUEST_SECONDS.labels(route, method, f"{status // 100}xx")
    child.observe(seconds)


def _aware(value: datetime) -> datetime:
    """`value` as an aware UTC time (SQLite gives stored times back naive; all are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DatabaseCollector(Collector):
    """The gauges read from the database with `session`, in three statements."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterable[Metric]:
        messages = GaugeMetricFamily("reinventons_outbox_messages",
                                     "Outbox messages by kind and state (pending, running, failed).",
                                     labels=["kind", "status"])
        rows = self.session.exec(
            select(OutboxMessage.kind, OutboxMessage.status, func.count())
            .where(col(OutboxMessage.status).in_(WATCHED)).group_by(OutboxMessage.kind, OutboxMessage.status)
        ).all()
        for kind, status, count in rows:
            messages.add_metric([kind, status], count)
        yield messages

        now = utcnow()
        oldest = self.session.exec(
            select(func.min(OutboxMessage.next_attempt_at))
            .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now)
        ).one()
        yield GaugeMetricFamily(
            "reinventons_outbox_oldest_due_age_seconds",
            "How long the oldest outbox message due has waited for the worker (0 when none is due).",
            value=max((now - _aware(oldest)).total_seconds(), 0.0) if oldest is not None else 0.0)

        deliveries = GaugeMetricFamily("reinventons_announcement_deliveries",
                                       "Announcements' deliveries to the channels, by status.", labels=["status"])
        for status, count in self.session.exec(
                select(Delivery.status, func.count()).group_by(Delivery.status)).all():
            deliveries.add_metric([status], count)
        yield deliveries


def exposition(session: Session) -> bytes:
    """Every metric in the text exposition format: this process's (or, in multiprocess mode,
    every server process's) and the database's, read now with `session`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        measured = generate_latest(processes)
    else:
        measured = generate_latest()
    database = CollectorRegistry()
    database.register(DatabaseCollector(session))
    return measured + generate_latest(database)
