"""The reminder before voting closes goes once, as a notification on the site and by e-mail
through the outbox (app.notify, kind "ballot"), to the citizens whose ballot holds projects but
is not confirmed."""

import threading
from datetime import timedelta

from sqlmodel import Session, select

from app import mail
from app.budget import reminder
from app.clock import utcnow
from app.db import Database
from app.notify.models import Notification
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.budget.helpers import cast_ballot, make_budget_call, make_project
from tests.factories import make_user


def test_citizens_with_an_unconfirmed_ballot_are_reminded_once_before_voting_closes(
        session: Session, settings: Settings) -> None:
    call = make_budget_call(session, phase="voting")
    project = make_project(session, call, 10)
    waiting = cast_ballot(session, call, [project], confirmed=False)
    confirmed = cast_ballot(session, call, [project])
    empty = cast_ballot(session, call, [], confirmed=False)
    unverified = cast_ballot(session, call, [project], confirmed=False)
    unverified.email_verified_at = None  # told on the site only: no e-mail to an unconfirmed address
    session.add(unverified)
    make_user(session)
    session.flush()

    def notices() -> list[tuple[int, str, str]]:
        rows = session.exec(select(Notification).where(Notification.kind == "ballot")).all()
        return sorted((r.user_id, r.link, r.subject) for r in rows)

    def emails() -> list[str]:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == mail.EMAIL_KIND)).all()
        return [str(r.payload["to"]) for r in rows]

    call.review_start = utcnow() + timedelta(days=3)  # voting ends in three days: not yet
    session.add(call)
    assert reminder.remind_due(session, settings) == 0
    call.review_start = utcnow() + timedelta(days=1)  # in a day: within the 48 hours
    session.add(call)
    assert reminder.remind_due(session, settings) == 2
    assert emails() == [waiting.email]
    link = f"/calls/{call.slug}/ballot#ballot-summary"
    assert notices() == sorted([(waiting.id, link, call.title), (unverified.id, link, call.title)])
    message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == mail.EMAIL_KIND)).one()
    assert "ne compte pas encore" in str(message.payload["subject"])
    assert f"/calls/{call.slug}/ballot" in str(message.payload["body"])
    assert confirmed.email not in emails() and empty.email not in emails()
    assert "Le vote se termine le " in str(message.payload["body"])
    assert reminder.remind_due(session, settings) == 0  # once per call
    assert len(notices()) == 2 and emails() == [waiting.email]


def test_two_workers_reminding_at_once_tell_each_citizen_once(db: Database, session: Session,
                                                              settings: Settings) -> None:
    # Two workers (two outbox slots run late, a restart) find the same call due at the same
    # moment: the budget row's lock makes the second see it was reminded.
    call = make_budget_call(session, phase="voting")
    call.review_start = utcnow() + timedelta(hours=20)
    session.add(call)
    project = make_project(session, call, 10)
    waiting = [cast_ballot(session, call, [project], confirmed=False) for _ in range(3)]
    session.commit()
    start = threading.Barrier(2)
    told: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with db.transaction() as s:
                told.append(reminder.remind_due(s, settings))
        except BaseException as exc:  # noqa: BLE001 - reported below; SQLite may refuse the second writer
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(told) == 3 and len(told) + len(failures) == 2, failures
    session.expire_all()
    rows = session.exec(select(Notification).where(Notification.kind == "ballot")).all()
    assert sorted(r.user_id for r in rows) == sorted(w.id for w in waiting)
