"""PostgreSQL: two transactions making, or ending, one person's participation at once leave the
participants' figure exact (migration 0042's triggers: the person's row is made by one insert and
updated under its row lock by the other, which then sees the first's contribution). Two real
connections: the second waits on the first's uncommitted row, then the first ends."""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from app import migrate
from app.db import Database
from app.pages.home import key_figures
from tests.factories import make_call, make_idea, make_user
from tests.pages.key_figures_oracle import recount
from tests.support import make_settings
from tests.support_locks import in_thread

WAIT_SECONDS = 20  # a bound on waiting for the second transaction to block, not a measure


def _figures(db: Database) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    with db.autocommit_session() as s:
        read = key_figures(s, answered_share=0, median_days=None)
        return (read.ideas, read.participants, read.supports), recount(s)


def _vote(conn: Connection, idea_id: int, user_id: int, call_id: int) -> None:
    conn.execute(sa.text("SELECT id FROM idea WHERE id = :i FOR UPDATE"), {"i": idea_id})
    conn.execute(sa.text("INSERT INTO vote (idea_id, user_id, call_id, created_at) "
                         "VALUES (:i, :u, :c, now())"), {"i": idea_id, "u": user_id, "c": call_id})
    conn.execute(sa.text("UPDATE idea SET vote_count = vote_count + 1 WHERE id = :i"), {"i": idea_id})


def _unvote(conn: Connection, idea_id: int, user_id: int) -> None:
    conn.execute(sa.text("SELECT id FROM idea WHERE id = :i FOR UPDATE"), {"i": idea_id})
    conn.execute(sa.text("DELETE FROM vote WHERE idea_id = :i AND user_id = :u"), {"i": idea_id, "u": user_id})
    conn.execute(sa.text("UPDATE idea SET vote_count = vote_count - 1 WHERE id = :i"), {"i": idea_id})


def _publish(conn: Connection, idea_id: int) -> None:
    conn.execute(sa.text("UPDATE idea SET status = 'published', published_at = now() WHERE id = :i"), {"i": idea_id})


def _wait_until_blocked_by(watch: Connection, pid: int) -> bool:
    """Whether a session came to wait for a lock that session `pid` holds (polled, bounded; each
    poll in a transaction of its own: pg_stat_activity is read once a transaction)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        blocked = watch.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}).scalar_one()
        watch.rollback()
        if blocked:
            return True
        time.sleep(0.02)
    return False


def _race(db: Database, first: Callable[[Connection], None], second: Callable[[Connection], None],
          *, commit_first: bool) -> None:
    """`first` in a transaction left open; `second` in another, in a thread, until it waits for a
    lock the first holds; then the first commits (or rolls back) and the second commits. Fails
    if the second never waited (the race did not happen)."""
    one = db.engine.connect()
    try:
        outer = one.begin()
        first(one)
        pid = one.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()

        def run() -> None:
            with db.engine.begin() as two:
                second(two)

        thread, errors = in_thread(run)
        with db.engine.connect() as watch:  # the second waits on the first's transaction
            waited = _wait_until_blocked_by(watch, pid)
        (outer.commit if commit_first else outer.rollback)()
        thread.join(WAIT_SECONDS)
    finally:
        one.close()
    assert not errors, errors
    assert waited, "the second transaction never waited for the first"


@pytest.fixture
def people(db: Database) -> dict[str, int]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with db.transaction() as s:
        call = make_call(s, phase="voting", votes_per_citizen=10)
        person = make_user(s)
        ideas = [make_idea(s, call) for _ in range(2)]
        draft = make_idea(s, call, author=person, status="submitted")
        return {"call": call.id or 0, "person": person.id or 0, "a": ideas[0].id or 0, "b": ideas[1].id or 0,
                "draft": draft.id or 0}


@pytest.mark.parametrize("commit_first", [True, False])
def test_one_persons_first_support_and_first_public_idea_at_once_count_them_once(
        db: Database, people: dict[str, int], commit_first: bool) -> None:
    p = people
    _race(db, lambda c: _vote(c, p["a"], p["person"], p["call"]), lambda c: _publish(c, p["draft"]),
          commit_first=commit_first)
    kept, counted = _figures(db)
    assert kept == counted
    assert counted[1] == 2 + 1  # the two ideas' authors and the person


@pytest.mark.parametrize("commit_first", [True, False])
def test_one_persons_first_two_supports_at_once_count_them_once(
        db: Database, people: dict[str, int], commit_first: bool) -> None:
    p = people
    _race(db, lambda c: _vote(c, p["a"], p["person"], p["call"]), lambda c: _vote(c, p["b"], p["person"], p["call"]),
          commit_first=commit_first)
    kept, counted = _figures(db)
    assert kept == counted == (2, 3, 2 if commit_first else 1)


def test_a_persons_last_support_withdrawn_while_they_give_another_keeps_them_counted(
        db: Database, people: dict[str, int]) -> None:
    p = people
    with db.engine.begin() as c:
        _vote(c, p["a"], p["person"], p["call"])
    _race(db, lambda c: _unvote(c, p["a"], p["person"]), lambda c: _vote(c, p["b"], p["person"], p["call"]),
          commit_first=True)
    kept, counted = _figures(db)
    assert kept == counted == (2, 3, 1)


def test_a_support_given_while_the_migration_runs_is_counted(tmp_path: Path, empty_database: str) -> None:
    # The platform keeps serving while 0042 is applied: a support's transaction, open when the
    # migration starts, commits while it runs. The migration waits for it before it counts.
    if not empty_database.startswith("postgresql"):
        pytest.skip("SQLite: the backfill and the triggers are made under the only writer's lock")
    migrate.upgrade(empty_database)
    filled = Database.from_settings(make_settings(tmp_path / "var", empty_database))
    try:
        with filled.transaction() as s:
            call = make_call(s, phase="voting", votes_per_citizen=10)
            idea, person = make_idea(s, call), make_user(s)
            ids = (idea.id or 0, person.id or 0, call.id or 0)
        config = migrate.alembic_config(empty_database)
        command.downgrade(config, "0041")
        filled.dispose()
        errors: list[BaseException] = []

        def upgrade() -> None:
            try:
                command.upgrade(config, "head")
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        with filled.engine.connect() as writer, filled.engine.connect() as watch:
            writing = writer.begin()
            _vote(writer, *ids)
            pid = writer.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            thread = threading.Thread(target=upgrade)
            thread.start()
            waited = _wait_until_blocked_by(watch, pid)
            writing.commit()
            thread.join(WAIT_SECONDS * 3)
        assert not errors and waited, errors
        kept, counted = _figures(filled)
        assert counted == (1, 2, 1) and kept == counted
    finally:
        filled.dispose()
