"""Transactions that lost a race with another and were rolled back whole: a deadlock that
PostgreSQL broke by failing this one, a serialization failure, a lock not obtained within the
server's `lock_timeout`, SQLite's "database is locked" once its busy timeout ran out (a worker or
a command holding the one write lock that long). Nothing the request sent was written, and the
same request may well succeed a moment later: app.handlers answers it as `Busy` (503, Retry-After)
in the visitor's language, never as an unexpected error. The lock order of app.locks makes these
rare; this is what a person sees when one happens anyway."""

import sqlite3

from sqlalchemy.exc import OperationalError

# PostgreSQL's SQLSTATE codes for them (https://www.postgresql.org/docs/current/errcodes-appendix.html):
# deadlock_detected, serialization_failure, lock_not_available.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# SQLite's messages for SQLITE_BUSY and SQLITE_LOCKED (https://www.sqlite.org/rescode.html).
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")


def lost_a_race(exc: BaseException) -> bool:
    """Whether `exc`, raised by SQLAlchemy, is a transaction that lost a race (module docstring)
    rather than a fault: an OperationalError whose driver error carries one of
    LOST_RACE_SQLSTATES (psycopg), or is SQLite's busy or locked error. Never raises."""
    if not isinstance(exc, OperationalError):
        return False
    driver_error = exc.orig
    sqlstate = getattr(driver_error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in LOST_RACE_SQLSTATES
    return isinstance(driver_error, sqlite3.OperationalError) and str(driver_error) in SQLITE_BUSY_MESSAGES
