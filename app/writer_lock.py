"""The SQLite writer lock shared by the processes writing to one database file: an exclusive
`flock` on "<database>-writer.lock", waited for in a thread of the process's own, which the
kernel hands to the next waiting process the moment it is released. app.db takes it after the
process's asyncio lock (`Database.writing`, `Database.write`); see app.db's docstring for why
SQLite's own busy handler is not enough."""

import asyncio
import fcntl
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine


class WriterFileLock:
    """The writer turn shared by every process writing to one SQLite database: an exclusive
    `flock` (flock(2)) on the file `path`, next to the database.

    flock locks belong to an open file description: two descriptors opened separately exclude
    each other, even in one process (two `Database`s on one file do), and the kernel releases
    the lock when the description is closed, a crashed process's included. A forked child
    shares its parent's description, hence its lock: this object opens its own descriptor (and
    its own waiting thread) in each process that uses it. Not re-entrant: take it once per
    process at a time, which the asyncio lock taken before it ensures (`Database.writing`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pid = 0
        self._fd = -1
        self._waiter: ThreadPoolExecutor | None = None
        self._last_wait: Future[None] | None = None

    def _open(self) -> tuple[int, ThreadPoolExecutor]:
        if self._pid != os.getpid() or self._waiter is None:
            # Not closed when inherited: the parent's description, and its lock, are the parent's.
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer-lock")
            self._last_wait = None
            self._pid = os.getpid()
        return self._fd, self._waiter

    async def acquire(self) -> None:
        """Wait for the lock without blocking the event loop (in this object's one thread, not
        the thread pool whose threads the holder needs to finish). If the waiting coroutine is
        cancelled (a client gone), the lock is released as soon as the thread gets it: a turn
        nobody will end must never stay taken."""
        fd, waiter = self._open()
        # Free (no other process writing): taken at once, without waking a thread. Not while an
        # abandoned wait is still in the thread: this descriptor would "take" the lock that wait
        # holds for a moment (flock converts a lock its description holds) and lose it with it.
        if self._last_wait is None or self._last_wait.done():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        attempt = _Attempt()
        self._last_wait = waiter.submit(_take, fd, attempt)
        try:
            await asyncio.wrap_future(self._last_wait)
        except BaseException:
            with attempt.mutex:
                attempt.wanted = False
                held = attempt.held
            if held:  # taken in the thread, but the coroutine was cancelled before it heard
                fcntl.flock(fd, fcntl.LOCK_UN)
            raise

    def release(self) -> None:
        """Give the lock back (does not block)."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the descriptor (releasing the lock if held) and stop the waiting thread."""
        if self._pid == os.getpid() and self._waiter is not None:
            self._waiter.shutdown(wait=False)
            os.close(self._fd)
        self._waiter = None
        self._pid = 0


@dataclass
class _Attempt:
    """One wait for the file lock, shared between the waiting coroutine and the thread: whoever
    learns last that the lock is taken and unwanted releases it (under `mutex`, exactly one)."""

    mutex: threading.Lock = field(default_factory=threading.Lock)
    wanted: bool = True
    held: bool = False


def _take(fd: int, attempt: _Attempt) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX)
    with attempt.mutex:
        if attempt.wanted:
            attempt.held = True
            return
    fcntl.flock(fd, fcntl.LOCK_UN)  # the coroutine that waited for it was cancelled


def writer_lock_path(engine: Engine) -> str | None:
    """The writer lock file of a SQLite database file ("<database>-writer.lock"), None for
    another database or an in-memory one."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{os.path.abspath(database)}-writer.lock"


class HandBack:
    """Releases a held `WriterFileLock` once, whoever calls first (the writing thread, or the
    coroutine that took it)."""

    def __init__(self, lock: WriterFileLock) -> None:
        self.lock: WriterFileLock | None = lock

    def __call__(self) -> None:
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release()
