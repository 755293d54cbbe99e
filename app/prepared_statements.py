"""PostgreSQL: a transaction that only read is ended by COMMIT, so that psycopg keeps the
statements it prepared on the connection.

psycopg prepares a statement on the server once a connection has run it five times
(`prepare_threshold`), and PostgreSQL then plans it once instead of at every run. But psycopg
forgets every prepared statement, and its counts, at every ROLLBACK, and asks the server to
drop them (DEALLOCATE ALL: psycopg/_preparing.py, `_should_discard`, and `Connection.rollback`;
it cannot tell what a rolled-back transaction undid, a DROP or an ALTER among it). Every read
request ends its transaction by rolling it back (SQLAlchemy's `Session.close()`), so no statement
of a page was ever prepared: each was planned again at every request. Measured on a logged-in
citizen's call page (issue 14): its three statements cost the server 1.06 ms of CPU ended by
ROLLBACK, 0.27 ms ended by COMMIT, and a page 1.5 ms of the server's CPU in all.

For a transaction that ran nothing but reads (`READS`), COMMIT and ROLLBACK leave the database
the same: nothing to keep, and both release its locks (FOR UPDATE, advisory ones held for the
transaction) and its `SET LOCAL` settings. A transaction that ran anything else, or failed, is
rolled back as before. SQLAlchemy's own ROLLBACK then finds the connection out of its
transaction and sends nothing (psycopg returns at once when idle).
"""

import re
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event

from app.pagecache.tracking import STATEMENT_LEAD

# What a transaction may run and still be ended by COMMIT: reads, and the settings of the
# transaction itself (app.search.sql sets the planner's for a search's statement). Anything
# else (a write, DDL, a WITH that writes, a statement this does not know) is rolled back.
# Not `SELECT ... INTO new_table` (PostgreSQL's old CREATE TABLE AS): no statement of the
# platform makes one.
READS = re.compile(STATEMENT_LEAD + r"(?:SELECT|SHOW|SET\s+LOCAL|RESET)\b", re.IGNORECASE)
_ONLY_READ = "transaction_only_read"  # in a connection's info: whether its transaction has only read


def keep_across_reads(engine: Engine) -> None:
    """Make `engine` (PostgreSQL through psycopg) end a transaction that only read with COMMIT
    when SQLAlchemy rolls it back (see the module's docstring). Idempotent per engine."""
    if event.contains(engine, "rollback", _end_read):
        return
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _seen)
    event.listen(engine, "rollback", _end_read)


def _begin(conn: Any) -> None:
    conn.info[_ONLY_READ] = True


def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.info.get(_ONLY_READ) and not READS.match(statement):
        conn.info[_ONLY_READ] = False


def _end_read(conn: Any) -> None:
    """Before SQLAlchemy's ROLLBACK: COMMIT instead, if the transaction only read and is
    still in progress (not failed, not lost: a connection SQLAlchemy invalidated, the server
    having closed it, is not even looked at, which would raise). A failing COMMIT is left to
    that ROLLBACK."""
    if conn.invalidated or not conn.info.pop(_ONLY_READ, False):  # invalidated: the connection was lost
        return
    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection) or driver.info.transaction_status != TransactionStatus.INTRANS:
        return
    try:
        driver.commit()
    except psycopg.Error:
        return  # then the ROLLBACK that follows ends it, or finds the connection lost
