"""A request whose transaction loses a race with another (a lock not obtained in time, a deadlock
PostgreSQL broke by failing it, SQLite's write lock held by a worker past the busy timeout) was
answered as an unexpected error, a 500 "something went wrong on our side". Nothing of it was
written and sending it again works: it is now a 503 saying so in the visitor's language, with
Retry-After (app.contention, app.handlers). Real waits on both databases: the server's own lock
timeout (PostgreSQL's `lock_timeout`, SQLite's busy timeout) shortened for the test's connections."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import contention
from app.vote import service as vote_service
from tests.support import WebClient
from tests.vote.parallel import signed_in_voter


@contextmanager
def short_lock_waits(client: WebClient) -> Iterator[None]:
    """Each connection the application takes waits 0.3 s for a lock, not the configured time."""
    statement = "PRAGMA busy_timeout=300" if client.db.is_sqlite else "SET lock_timeout = '300ms'"

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()

    event.listen(client.db.engine, "checkout", on_checkout)
    try:
        yield
    finally:
        event.remove(client.db.engine, "checkout", on_checkout)


@contextmanager
def held_elsewhere(client: WebClient, voter_id: int) -> Iterator[None]:
    """Another writer holds what the support needs: on SQLite the one write lock (a worker's
    BEGIN IMMEDIATE, which takes no turn of the web processes), on PostgreSQL the voter's row."""
    if client.db.is_sqlite:
        path = client.db.engine.url.database
        assert path is not None
        worker = sqlite3.connect(path, isolation_level=None)
        worker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            worker.rollback()
            worker.close()
    else:
        with client.db.session(write=True) as other:
            other.execute(text("SELECT id FROM user_account WHERE id = :id FOR UPDATE"), {"id": voter_id})
            yield
            other.rollback()


def test_a_support_that_loses_a_race_is_told_to_try_again_and_nothing_is_written(
        client: WebClient, session: Session) -> None:
    idea_id, voter_id, _token = signed_in_voter(client, session)  # the token's seed, before the lock is held

    with short_lock_waits(client):
        with held_elsewhere(client, voter_id):
            page = client.submit(f"/ideas/{idea_id}/vote", headers={"Accept-Language": "fr"})
        session.expire_all()
        assert (vote_service.count_rows(session, idea_id), vote_service.vote_count(session, idea_id)) == (0, 0)
        assert page.status_code == 503
        assert page.headers["retry-after"] == "1"
        assert "rien n’a été enregistré" in page.text
        assert "Something went wrong" not in page.text and "Un problème" not in page.text
        # Sent again once the other writer is done: recorded once.
        again = client.submit(f"/ideas/{idea_id}/vote")
    assert again.status_code == 303
    session.expire_all()
    assert (vote_service.count_rows(session, idea_id), vote_service.vote_count(session, idea_id)) == (1, 1)


def test_a_script_whose_support_loses_a_race_is_told_so_in_json(client: WebClient, session: Session) -> None:
    """The support button's script (cards.js, inplace.js) reads the answer as JSON and says its
    `error` by the card; an error page instead made it post the form again at once, into the
    contention that had just failed the first attempt."""
    idea_id, voter_id, token = signed_in_voter(client, session)

    with short_lock_waits(client), held_elsewhere(client, voter_id):
        answer = client.post(f"/ideas/{idea_id}/vote", data={"csrf_token": token},
                             headers={"Accept": "application/json", "X-Requested-With": "fetch",
                                      "X-CSRF-Token": token, "Accept-Language": "fr"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert "rien n’a été enregistré" in answer.json()["error"]
    session.expire_all()
    assert (vote_service.count_rows(session, idea_id), vote_service.vote_count(session, idea_id)) == (0, 0)


def test_any_other_database_error_is_not_taken_for_a_race(client: WebClient) -> None:
    # A fault, not a race: SQLite's missing table, PostgreSQL's connection ended by the server.
    fault = ("SELECT * FROM no_such_table_here" if client.db.is_sqlite
             else "SELECT pg_terminate_backend(pg_backend_pid())")
    with client.db.engine.connect() as connection, pytest.raises(OperationalError) as raised:
        connection.execute(text(fault))
    assert not contention.lost_a_race(raised.value)
