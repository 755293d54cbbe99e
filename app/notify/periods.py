"""Digest periods, and the one job per period that sends them.

A daily digest covers a calendar day in the city's time zone and leaves the next morning at
DIGEST_HOUR; a weekly digest covers an ISO week (Monday to Sunday) and leaves on the following
Monday morning. When a notification waits for a digest, `schedule` makes sure the job of its
period is in the outbox, due at that hour: one outbox message per (cadence, period) for the
whole platform, whatever the number of notifications, thanks to its dedupe key. The worker runs
it like any outbox message (app.notify.digest.run); nothing polls.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from app.i18n import CITY_TZ
from app.notify.models import EmailDelivery
from app.outbox import service as outbox

DIGEST_JOB = "notify.digest"
DIGEST_HOUR = time(7, 0)  # local time: digests arrive with the morning's mail


@dataclass(frozen=True)
class Period:
    """One digest period. `end` and `send_at` are aware UTC datetimes."""

    cadence: EmailDelivery
    key: str  # "2026-11-29" for a day, "2026-W48" for an ISO week
    end: datetime  # notifications written before this belong to it (or to an earlier one)
    send_at: datetime


def _local(day: date, at: time) -> datetime:
    # Midnight and 7:00 exist exactly once every day in Brussels (clocks change at 2:00-3:00).
    return datetime.combine(day, at, tzinfo=CITY_TZ).astimezone(UTC)


def period_of(cadence: EmailDelivery, when: datetime) -> Period:
    """The daily or weekly period that contains the instant `when` (aware)."""
    day = when.astimezone(CITY_TZ).date()
    if cadence == EmailDelivery.daily:
        following = day + timedelta(days=1)
        return Period(cadence, day.isoformat(), _local(following, time(0)), _local(following, DIGEST_HOUR))
    if cadence == EmailDelivery.weekly:
        year, week, weekday = day.isocalendar()
        next_monday = day + timedelta(days=8 - weekday)
        return Period(cadence, f"{year}-W{week:02d}", _local(next_monday, time(0)), _local(next_monday, DIGEST_HOUR))
    raise ValueError(cadence)


def period_by_key(cadence: EmailDelivery, key: str) -> Period:
    """The period named `key` (as in Period.key). ValueError if the key is malformed."""
    if cadence == EmailDelivery.weekly:
        year, _w, week = key.partition("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return period_of(cadence, _local(monday, time(12)))
    return period_of(cadence, _local(date.fromisoformat(key), time(12)))


def schedule(session: Session, *, cadence: EmailDelivery, when: datetime) -> None:
    """Make sure the digest job of the period containing `when` is queued (once), in the
    caller's transaction."""
    period = period_of(cadence, when)
    outbox.enqueue(session, DIGEST_JOB, {"cadence": period.cadence.value, "period": period.key},
                   dedupe_key=f"{DIGEST_JOB}:{period.cadence.value}:{period.key}", run_at=period.send_at)
