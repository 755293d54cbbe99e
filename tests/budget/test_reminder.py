"""The reminder before voting closes goes once, as a notification on the site and by e-mail
through the outbox (app.notify, kind "ballot"), to the citizens whose ballot holds projects but
is not confirmed."""

from datetime import timedelta

from sqlmodel import Session, select

from app import mail
from app.budget import reminder
from app.clock import utcnow
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
