"""The outbox: effects written with their cause, carried out once, retried with backoff."""

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.clock import utcnow
from app.db import Database
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage, OutboxStatus
from tests.support import SmtpSink, WebClient, body_of


def message(session: Session, message_id: int) -> OutboxMessage:
    session.expire_all()
    found = session.get(OutboxMessage, message_id)
    assert found is not None
    return found


def test_a_failing_handler_is_retried_with_backoff_then_given_up(db: Database, session: Session) -> None:
    queued = outbox.enqueue(session, "flaky", {"n": 1})
    session.commit()
    assert queued is not None and queued.id is not None
    calls: list[int] = []

    def fail(message_id: int, payload: dict) -> None:
        calls.append(message_id)
        raise ConnectionError("server down")

    assert outbox.run_pending(db, {"flaky": fail}) == 1
    row = message(session, queued.id)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert "server down" in (row.last_error or "")
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    # Not due yet: nothing runs.
    assert outbox.run_pending(db, {"flaky": fail}) == 0
    for _ in range(row.max_attempts - 1):
        row = message(session, queued.id)
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
        outbox.run_pending(db, {"flaky": fail})
    row = message(session, queued.id)
    assert row.status == OutboxStatus.failed and row.attempts == row.max_attempts
    assert len(calls) == row.max_attempts


def test_a_message_cancelled_by_its_handler_keeps_nothing_and_is_never_retried(db: Database,
                                                                               session: Session) -> None:
    queued = outbox.enqueue(session, "mail", {"to": "x@example.org", "body": "secret"})
    session.commit()
    assert queued is not None and queued.id is not None

    def refuse(message_id: int, payload: dict) -> None:
        raise outbox.Cancelled("recipient deleted their account")

    assert outbox.run_pending(db, {"mail": refuse}) == 1
    row = message(session, queued.id)
    assert row.status == OutboxStatus.cancelled and row.payload == {} and row.attempts == 0
    assert row.last_error == "recipient deleted their account"
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert outbox.run_pending(db, {"mail": refuse}) == 0


def test_a_message_cancelled_while_a_worker_holds_it_stays_cancelled(db: Database, session: Session) -> None:
    queued = outbox.enqueue(session, "mail", {"to": "x@example.org"})
    session.commit()
    assert queued is not None and queued.id is not None

    def cancelled_meanwhile(message_id: int, payload: dict) -> None:
        with db.transaction() as other:
            held = other.get(OutboxMessage, message_id)
            assert held is not None and held.status == OutboxStatus.running
            outbox.cancel(other, held, "recipient deleted their account")

    assert outbox.run_pending(db, {"mail": cancelled_meanwhile}) == 1
    row = message(session, queued.id)
    assert row.status == OutboxStatus.cancelled and row.payload == {}


def test_success_is_done_once_and_dedupe_keys_queue_once(db: Database, session: Session) -> None:
    assert outbox.enqueue(session, "ok", {}, dedupe_key="results:1") is not None
    session.commit()
    assert outbox.enqueue(session, "ok", {}, dedupe_key="results:1") is None
    session.commit()
    seen: list[int] = []
    assert outbox.run_pending(db, {"ok": lambda mid, payload: seen.append(mid)}) == 1
    assert outbox.run_pending(db, {"ok": lambda mid, payload: seen.append(mid)}) == 0
    assert len(seen) == 1
    rows = session.exec(select(OutboxMessage)).all()
    assert [r.status for r in rows] == [OutboxStatus.done]


def test_a_claim_abandoned_by_a_dead_worker_is_taken_again(db: Database, session: Session) -> None:
    queued = outbox.enqueue(session, "ok", {})
    session.commit()
    assert queued is not None and queued.id is not None
    [claimed] = outbox.claim(db)  # a worker claims it, then dies
    assert outbox.claim(db) == []  # others leave it alone while the claim holds
    row = message(session, queued.id)
    row.locked_until = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert [m.id for m in outbox.claim(db)] == [claimed.id]


def test_mail_waits_while_the_smtp_server_refuses_and_is_not_lost(mail_client: WebClient, smtp: SmtpSink,
                                                                 session: Session) -> None:
    smtp.refuse_with = "451 4.3.0 Try again later"
    mail_client.submit("/account/register", {"email": "rita@example.org", "display_name": "Rita",
                                             "password": "une phrase assez longue"})
    mail_client.run_worker()
    [row] = session.exec(select(OutboxMessage)).all()
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert "451" in (row.last_error or "")
    smtp.refuse_with = None
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert mail_client.run_worker() == 1
    assert len(smtp.to("rita@example.org")) == 1


def test_without_smtp_url_mail_is_written_to_files(client: WebClient) -> None:
    client.submit("/account/register", {"email": "sam@example.org", "display_name": "Sam",
                                        "password": "une phrase assez longue"})
    client.run_worker()
    files = list(client.settings.mail_dir.glob("*.eml"))
    assert len(files) == 1
    assert "To: sam@example.org" in files[0].read_text()


def test_a_delivered_email_keeps_no_readable_link_in_the_outbox(mail_client: WebClient, smtp: SmtpSink,
                                                                session: Session) -> None:
    mail_client.submit("/account/register", {"email": "ines@example.org", "display_name": "Inès",
                                             "password": "une phrase assez longue"})
    [queued] = session.exec(select(OutboxMessage)).all()
    assert "/account/verify?token=" in queued.payload["body"]
    mail_client.run_worker()
    assert "/account/verify?token=" in body_of(smtp.last_to("ines@example.org"))
    session.expire_all()
    [done] = session.exec(select(OutboxMessage)).all()
    assert done.status == OutboxStatus.done
    # Nor the address: who it went to stays as the account's id (issue 10, finding 20).
    assert done.payload["body"] == "" and done.payload["to"] == ""
    assert done.payload["user_id"] is not None and done.payload["subject"]


def test_two_transactions_queueing_the_same_dedupe_key_both_commit(db: Database, session: Session) -> None:
    """A dedupe key is decided by the unique index when the message is queued, not at the
    caller's commit: two requests queueing the same job at once (the first digest of a day,
    say) both succeed, and the job is queued once."""
    barrier = threading.Barrier(2)
    results: list[object] = []

    def queue() -> None:
        try:
            barrier.wait(timeout=10)
            with db.transaction() as tx:
                outbox.enqueue(tx, "job", {"n": 1}, dedupe_key="job:2026-11-29")
            results.append("committed")
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == ["committed", "committed"]
    assert len(session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == "job:2026-11-29")).all()) == 1


def _refused_by(url: str) -> None:
    """What httpx raises for a 401 answer to `url` (its text names the request's full URL)."""
    request = httpx.Request("GET", url)
    httpx.Response(401, request=request).raise_for_status()


def _fails(url: str) -> None:
    _refused_by(url)


def _waits(url: str) -> None:
    try:
        _refused_by(url)
    except httpx.HTTPStatusError as exc:
        raise outbox.RetryAt(utcnow() + timedelta(minutes=5), f"the provider said wait: {exc}") from exc


def _gives_up(url: str) -> None:
    raise outbox.Cancelled(f"nothing to do for {url}")


@pytest.mark.parametrize("outcome", [_fails, _waits, _gives_up], ids=["failed", "retried", "cancelled"])
def test_a_url_in_a_failure_is_logged_and_kept_without_its_token_password_or_query(
        db: Database, session: Session, caplog: pytest.LogCaptureFixture, outcome: Callable[[str], None]) -> None:
    """An httpx error names the request's full URL: a user and password in it, an access token in
    its query string (an OpenID provider, a network's API, a webhook with a key), a token in its
    path (an unsubscribe link). The administrators read the error in the log and in the message's
    row; they see the kind of error, the status, the host and the path, and none of those."""
    secret = secrets.token_urlsafe(16)  # made now: no source line shown with the error holds it
    url = (f"https://reinventons:{secret}@idp.example.be/unsubscribe/{secret}/one-click"
           f"?access_token={secret}#id_token={secret}")
    queued = outbox.enqueue(session, "provider", {"n": 1})
    session.commit()
    assert queued is not None and queued.id is not None
    caplog.set_level(logging.INFO)

    assert outbox.run_pending(db, {"provider": lambda _id, _payload: outcome(url)}) == 1

    stored = message(session, queued.id).last_error or ""
    assert secret not in stored and secret not in caplog.text
    assert "idp.example.be/unsubscribe/[token]/one-click" in stored
    assert "idp.example.be/unsubscribe/[token]/one-click" in caplog.text
    if outcome is not _gives_up:
        assert "401 Unauthorized" in stored and "401 Unauthorized" in caplog.text
    if outcome is _fails:
        assert stored.startswith("HTTPStatusError: ")


def test_a_database_error_is_kept_without_the_values_of_its_statement(
        db: Database, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    """A database error names its statement; the values bound to it (a token, an address) stay out
    of the log and of the stored error."""
    secret = secrets.token_urlsafe(16)
    queued = outbox.enqueue(session, "lookup", {"n": 1})
    session.commit()
    assert queued is not None and queued.id is not None

    def look_up(_message_id: int, _payload: dict) -> None:
        with db.transaction() as tx:
            tx.connection().execute(text("SELECT no_such_column FROM outbox_message WHERE dedupe_key = :key"),
                                    {"key": secret})

    caplog.set_level(logging.INFO)
    assert outbox.run_pending(db, {"lookup": look_up}) == 1
    stored = message(session, queued.id).last_error or ""
    assert "no_such_column" in stored
    assert secret not in stored and secret not in caplog.text
