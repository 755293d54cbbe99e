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

For a transaction that ran nothing but reads (`only_reads`), COMMIT and ROLLBACK leave the database
the same: nothing to keep, and both release its locks (FOR UPDATE, advisory ones held for the
transaction) and its `SET LOCAL` settings. A transaction that ran anything else, or failed, is
rolled back as before. SQLAlchemy's own ROLLBACK then finds the connection out of its
transaction and sends nothing (psycopg returns at once when idle).
"""

import re
from typing import Any

import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event

from app.pagecache.tracking import STATEMENT_LEAD

# What a transaction may run and still be ended by COMMIT: reads, and the settings of the
# transaction itself (app.search.sql sets the planner's for a search's statement), each part of
# a string of several. Anything else (a write, DDL, a session's SET or RESET, a WITH that
# writes, a statement this does not know) is rolled back, as is a read whose text names what
# a COMMIT would keep: a table made by SELECT ... INTO, a session setting (set_config), a
# notification (pg_notify). A SELECT of a function that writes would be committed: the
# platform has none (nextval and advisory locks are not undone by a ROLLBACK either).
_READ = re.compile(STATEMENT_LEAD + r"(?:SELECT|SHOW|SET\s+LOCAL)\s", re.IGNORECASE)
# Looked for as plain text, lower-cased (a regular expression over a page's 1.3 KB statement
# cost 40 us, several times a page): a word that only contains one ("intonation") makes a read
# rolled back, as before.
_KEPT_BY_COMMIT = ("into", "set_config", "pg_notify")


def only_reads(statement: str) -> bool:
    """Whether `statement` (SQL text, one statement or several separated by ";") leaves the
    database as it found it once its transaction ends, by COMMIT as by ROLLBACK. A ";" inside
    a literal makes a part that is not a read: the transaction is rolled back, as before."""
    lowered = statement.lower()
    if any(name in lowered for name in _KEPT_BY_COMMIT):
        return False
    parts = statement.split(";") if ";" in statement else (statement,)
    return all(_READ.match(part + " ") for part in parts if part.strip())


_ONLY_READ = "transaction_only_read"  # in a connection's info: whether its transaction has only read


def keep_across_reads(engine: Engine) -> None:
    """Make `engine` (PostgreSQL through psycopg) end a transaction that only read with COMMIT
    when SQLAlchemy rolls it back (see the module's docstring). Idempotent per engine."""
    if event.contains(engine, "rollback", _end_read):
        return
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _seen)
    event.listen(engine, "rollback", _end_read)
    event.listen(engine, "handle_error", _plan_outdated)


def _plan_outdated(context: Any) -> None:
    """A statement prepared before a migration changed the type of a column it returns is
    refused by PostgreSQL ("cached plan must not change result type", SQLSTATE 0A000): during a
    rolling deploy, an old process's kept statements. The connection is then taken for lost
    (SQLAlchemy's `is_disconnect`, settable by this event): it and every connection of the pool
    are replaced, with none of their prepared statements, so that one request fails, not one
    per connection, each time it meets one."""
    failed = context.original_exception
    if isinstance(failed, psycopg.errors.FeatureNotSupported) and "cached plan must not change result type" in str(
            failed):
        context.is_disconnect = True


def _begin(conn: Any) -> None:
    conn.info[_ONLY_READ] = True


def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.info.get(_ONLY_READ) and not only_reads(statement):
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
