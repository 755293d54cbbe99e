"""Two PostgreSQL writers interleaved on purpose, for the tests of app.locks' order: one holds a
row (an idea's, a person's, a call's), the other is started and queues behind it, then the first
goes on and commits."""

import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlmodel import Session

from app.locks import lock_idea
from tests.support import WebClient

WAITING = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')")


def in_thread(target: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """Start `target` in a thread; returns the thread and the list that receives what it raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def queued_behind(client: WebClient, hold: Callable[[Session], None], writer: Callable[[Session], None],
                  then: Callable[[Session], None] = lambda _session: None) -> list[BaseException]:
    """Run `hold` in one transaction (a writer under way: it locks or writes rows), run `writer`
    in a transaction of its own in a thread until it waits for a lock, then run `then` in the
    first transaction and commit it. Returns what `writer` raised (a deadlock's error, a refusal),
    after it ended; fails the test when `writer` never waited or did not end within 20 s."""
    def run() -> None:
        with client.db.transaction() as session:
            writer(session)

    with client.db.session(write=True) as holder:
        hold(holder)
        thread, errors = in_thread(run)
        deadline = time.monotonic() + 10
        while holder.execute(WAITING).scalar_one() == 0:
            assert time.monotonic() < deadline, "the writer never waited"
            time.sleep(0.02)
        then(holder)
        holder.commit()
    thread.join(20)
    assert not thread.is_alive(), "the writer did not end"
    return errors


def holding_idea(idea_id: int) -> Callable[[Session], None]:
    """A `hold` for `queued_behind`: the idea's row locked as its writers lock it (app.locks)."""
    return lambda session: lock_idea(session, idea_id)
