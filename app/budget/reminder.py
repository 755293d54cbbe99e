"""The reminder before voting closes: each citizen whose ballot of a participatory budget is
not confirmed (it holds projects but does not count) gets one e-mail, 48 hours before voting
ends, through the outbox like every e-mail.

A periodic outbox job, as app.announce.events drafts its announcements: the worker starts the
chain, each run looks for the calls due and queues the next run (one message per slot, so
several workers never double it). A call is reminded once (`CallBudget.reminded_at`, set in the
same transaction as the e-mails)."""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app import links, mail
from app.account.models import User
from app.budget.models import Ballot, BallotItem, CallBudget
from app.call.models import Call, Phase, VotingMode
from app.call.phases import current_phase
from app.clock import utcnow
from app.db import Database
from app.i18n import CITY_TZ
from app.outbox import service as outbox
from app.settings import Settings

log = logging.getLogger(__name__)

REMIND_KIND = "budget.remind_unconfirmed"
EVERY = timedelta(minutes=15)
BEFORE = timedelta(hours=48)


def voting_ends(call: Call) -> datetime | None:
    """When voting ends for `call`: the start of review, else of results, else the closing."""
    return call.review_start or call.results_start or call.closes_at


def remind_due(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Queue the reminder e-mails of every budget call in its voting phase whose voting ends
    within 48 hours and that was not reminded yet, to the citizens (e-mail confirmed, active)
    whose ballot holds projects but is not confirmed. Returns how many e-mails were queued."""
    now = now or utcnow()
    queued = 0
    rows = session.exec(select(Call, CallBudget).join(CallBudget, col(CallBudget.call_id) == Call.id)
                        .where(Call.voting_mode == VotingMode.budget, col(CallBudget.reminded_at).is_(None))).all()
    for call, budget in rows:
        end = voting_ends(call)
        if end is None or current_phase(call, now) != Phase.voting or now < end - BEFORE:
            continue
        people = session.exec(
            select(User).join(Ballot, col(Ballot.user_id) == User.id)
            .where(Ballot.call_id == call.id, col(Ballot.confirmed_at).is_(None),
                   col(Ballot.id).in_(select(BallotItem.ballot_id)),
                   col(User.email_verified_at).is_not(None), col(User.deleted_at).is_(None),
                   col(User.banned_at).is_(None))).all()
        for person in people:
            mail.queue_email(session, to=person.email, template="budget_reminder", lang=person.language,
                             user_id=person.id, dedupe_key=f"{REMIND_KIND}:{call.id}:{person.id}",
                             name=person.display_name, subject=call.title,
                             closes=end.astimezone(CITY_TZ).strftime("%d/%m/%Y %H:%M"),
                             link=settings.absolute_url(links.path("budget:ballot", slug=call.slug)))
            queued += 1
        budget.reminded_at = now
        session.add(budget)
    return queued


def run(settings: Settings, db: Database, _message_id: int, _payload: dict[str, Any]) -> None:
    """The worker's handler of `budget.remind_unconfirmed`: remind who is due, queue the next run."""
    with db.transaction() as session:
        queued = remind_due(session, settings)
        schedule(session, utcnow() + EVERY)
    if queued:
        log.info("%s reminders to confirm a ballot queued", queued)


def schedule(session: Session, at: datetime) -> None:
    """Queue a run of `remind_due` at `at` (one message per fifteen-minute slot)."""
    slot = int(at.timestamp()) // int(EVERY.total_seconds())
    outbox.enqueue(session, REMIND_KIND, {}, dedupe_key=f"{REMIND_KIND}:{slot}", run_at=at)
