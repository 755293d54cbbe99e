"""The reminder before voting closes goes once, by e-mail through the outbox, to the citizens
whose ballot holds projects but is not confirmed."""

from datetime import timedelta

from sqlmodel import Session, select

from app import mail
from app.budget import reminder
from app.clock import utcnow
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
    make_user(session)
    session.flush()

    def emails() -> list[str]:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == mail.EMAIL_KIND)).all()
        return [str(r.payload["to"]) for r in rows]

    call.review_start = utcnow() + timedelta(days=3)  # voting ends in three days: not yet
    session.add(call)
    assert reminder.remind_due(session, settings) == 0
    call.review_start = utcnow() + timedelta(days=1)  # in a day: within the 48 hours
    session.add(call)
    assert reminder.remind_due(session, settings) == 1
    assert emails() == [waiting.email]
    message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == mail.EMAIL_KIND)).one()
    assert "ne compte pas encore" in str(message.payload["subject"])
    assert f"/calls/{call.slug}/ballot" in str(message.payload["body"])
    assert confirmed.email not in emails() and empty.email not in emails()
    assert reminder.remind_due(session, settings) == 0  # once per call
