"""The page generation on PostgreSQL read from the event loop itself, on a connection of each
loop's own (psycopg's AsyncConnection), for the page cache's requests (app.pagecache.shared_read
makes one read serve every request arriving while it runs).

Why not the reader thread the other remote generation (Redis) uses: a read there is two hops
between threads (the loop hands the read to the thread, the thread wakes the loop with the
value), each a wake-up and a turn of the GIL taken from the loop that serves the kept pages.
On PostgreSQL, where a kept page waits for its generation at every request, that was the
largest cost a kept page had over SQLite's (issue 14). On the loop, a read is a query sent and
a wait for the socket, as the loop waits for any client.

One connection per event loop: a connection's socket is watched by the loop that reads on it.
A server process runs one loop; the tests run one per application, whose connections are closed
with the application's database (`close`) or, once their loop has ended, by the next read."""

import asyncio
import threading
import weakref
from collections.abc import MutableMapping, Sequence
from typing import Any

import psycopg
from psycopg.abc import Query
from psycopg.pq import TransactionStatus

# How long a read may take, connecting included, before it is given up (TimeoutError). A read is
# a round trip of some 35 us, a connect some milliseconds; a server that does not answer in
# seconds is stopped or black-holed, or the sequence is locked (a migration altering it), and
# without a bound every cacheable GET waited on it for as long (connecting to a black-holed
# server: TCP's minutes). A request given up gets the 500 page (app.edge). The server process
# of a read given up does not go on waiting: psycopg sends the server a cancel request when the
# read is cancelled (tests/pagecache/test_generation_reconnects.py).
READ_TIMEOUT_SECONDS = 2.0


class _Link:
    """One loop's connection, and whether a read is under way on it (`busy`): closed only
    between reads, since closing a socket a read waits on would leave that read waiting."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self.busy = False
        self.closing = False

    def close_between_reads(self) -> None:
        """Close now, or at the end of the read under way (in the loop's thread)."""
        if self.busy:
            self.closing = True
        else:
            _finish(self.connection)


# A connection the server closed, or whose prepared statement the server no longer has
# (DISCARD ALL, DEALLOCATE ALL, a pooler handing over another server connection): read again on
# a new one. Other errors are raised, and so is an OperationalError the server answered on a
# connection that still works (`_kept_after`: a statement or lock timeout, out of memory), which a
# new connection would most likely answer too.
_LOST = (psycopg.OperationalError, psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement)
# The SQLSTATEs of lost connections that may still look open: the prepared statement gone (26000)
# or one of its name there already (42P05), a connection failing (class 08), the server ending
# the session (57P01 to 57P05: shut down, database dropped, idle too long...).
_LOST_STATES = ("26000", "42P05", "08", "57P")


def _kept_after(connection: psycopg.AsyncConnection[Any], failed: BaseException) -> bool:
    """Whether `connection` may be read on again after its read raised `failed`: the server
    refused the query (an SQLSTATE, none of `_LOST_STATES`) and the connection is as it was
    before it, open and outside any transaction (autocommit)."""
    return (isinstance(failed, psycopg.Error) and failed.sqlstate is not None
            and not failed.sqlstate.startswith(_LOST_STATES)
            and not connection.closed and connection.info.transaction_status == TransactionStatus.IDLE)


def _finish(connection: psycopg.AsyncConnection[Any]) -> None:
    # AsyncConnection.close() is a coroutine; for an idle connection in autocommit (no
    # transaction, no pipeline) it comes to this, which may be called outside the loop.
    connection.pgconn.finish()


class LoopConnections:
    """`await read()`: the first row of `statement` (the generation) as a string, read on the
    running event loop's own connection, opened at its first read (on the loop: no thread is
    woken). Read once more on a new connection when that one is lost (`_LOST`: the server
    closed it, or forgot its prepared statement); raises what the new one raises, as the
    query's other errors: psycopg.Error (an error the server answered, such as
    psycopg.errors.InsufficientPrivilege, leaves the connection to the next read). Raises
    TimeoutError when the read, connecting and reading again included, takes more than
    `read_timeout` seconds; the connection is then closed, and the next read opens a new one.
    The page cache takes either as a failed read (app.edge, app.pagecache.middleware): the
    request is answered the 500 page, never a page kept under an older generation.

    `connect_args` are SQLAlchemy's arguments for psycopg.connect on this database
    (`Dialect.create_connect_args`), so that this connects as the application's engine does."""

    def __init__(self, connect_args: tuple[Sequence[Any], MutableMapping[str, Any]], statement: Query, *,
                 read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        self._args, self._kwargs = connect_args
        self.statement = statement
        self.read_timeout = read_timeout
        # Every loop of the process reads here (each test's application runs its own, in a
        # thread of its own): the table is changed under a lock.
        self._lock = threading.Lock()
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Link] = weakref.WeakKeyDictionary()
        # How many times `close` ran (changed under the lock): a connection being opened while it
        # runs is not in the table it empties, and is not kept (`_connect`).
        self._closes = 0

    async def read(self) -> str:
        # The timeout cancels the read where it waits (connecting, or for the answer), which
        # closes its connection (`_read_on`: what the server would send next on it is unknown).
        async with asyncio.timeout(self.read_timeout):
            return await self._read_on(asyncio.get_running_loop())

    async def _read_on(self, loop: asyncio.AbstractEventLoop) -> str:
        """`read()` on `loop`'s connection, without its timeout."""
        for last_try in (False, True):
            link = self._links.get(loop)
            if link is None or link.connection.closed:
                link = await self._connect(loop)
            link.busy = True
            try:
                cursor = await link.connection.execute(self.statement)
                # As SequenceGeneration.current formats the row: the same state, the same string.
                return str(await cursor.fetchone())
            except BaseException as failed:
                if _kept_after(link.connection, failed):
                    # The server refused the query (a relation missing, a grant revoked): raised,
                    # on a connection that works. Closed, a lasting error had every read open a
                    # connection (a server process) and close it.
                    raise
                # Lost (`_LOST`), cancelled (timed out, or the loop ends) or failed in the middle
                # of a read: what the server sends next on this connection is unknown, so it is
                # not read on again. A lost one is read once more, on a new one.
                self._forget(loop, link)
                _finish(link.connection)
                if last_try or not isinstance(failed, _LOST):
                    raise
            finally:
                link.busy = False
                if link.closing:
                    _finish(link.connection)
        raise AssertionError("unreachable")

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Link:
        """A new connection for `loop`'s read under way, kept for its next reads unless `close`
        ran while it was being opened: then it is closed at the end of this read."""
        closes = self._closes
        connection = await psycopg.AsyncConnection.connect(
            *self._args, **self._kwargs,
            # No transaction to end (a read of a sequence), and prepared at its first use: the
            # server plans the query once per connection rather than at every read.
            autocommit=True, prepare_threshold=0)
        link = _Link(connection)
        with self._lock:
            if self._closes != closes:
                # Kept, it would stay open after the close, which did not see it: it ends as a
                # connection the close found reading, once this read is answered.
                link.closing = True
                return link
            ended = [(old, gone) for old, gone in self._links.items() if old.is_closed()]
            for old, _gone in ended:
                del self._links[old]
            self._links[loop] = link
        for _old, gone in ended:  # their loops ended: no read runs on them
            _finish(gone.connection)
        return link

    def _forget(self, loop: asyncio.AbstractEventLoop, link: _Link) -> None:
        with self._lock:
            if self._links.get(loop) is link:
                del self._links[loop]

    def close(self) -> None:
        """Close every loop's connection, from any thread: at once for a loop that has ended,
        on its loop (between two reads) for one that may still run. A read under way is
        answered, on its connection, which is closed right after it; so is a read whose
        connection was being opened meanwhile. The next read of a loop opens a connection
        again."""
        with self._lock:
            links = list(self._links.items())
            self._links.clear()
            self._closes += 1
        for loop, link in links:
            if loop.is_closed():
                _finish(link.connection)
                continue
            try:
                loop.call_soon_threadsafe(link.close_between_reads)
            except RuntimeError:  # the loop was closed meanwhile: nothing runs on it now
                _finish(link.connection)

    def backend_pids(self) -> list[int]:
        """The server process of each open connection (for the tests and for diagnostics)."""
        with self._lock:
            links = list(self._links.values())
        return [link.connection.info.backend_pid for link in links if not link.connection.closed]
