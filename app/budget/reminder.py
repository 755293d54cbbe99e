"""The reminder before voting closes: each citizen whose ballot of a participatory budget is
not confirmed (it holds projects but does not count) is told once, 48 hours before voting
ends, through app.notify: a notification on the site (kind "ballot") and the e-mail as they
chose for that kind (at once unless they chose a digest or none; never to an unconfirmed
address), which the outbox carries like every e-mail.

A periodic outbox job, as app.announce.events drafts its announcements: the worker starts the
chain, each run looks for the calls due and queues the next run (one message per slot, so
several workers never double it). A call is reminded once: `CallBudget.reminded_at` is read
again under the budget row's lock and set in the same transaction as the notifications, so two
runs at once never tell anyone twice."""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app import links
from app.account.models import User
from app.budget.models import Ballot, BallotItem, CallBudget
from app.call.models import Call, Phase, VotingMode
from app.call.phases import current_phase
from app.clock import utcnow
from app.db import Database
from app.i18n import CITY_TZ, N_
from app.notify import service as notify_service
from app.notify.models import NotificationKind
from app.notify.news import News
from app.outbox import service as outbox
from app.settings import Settings

log = logging.getLogger(__name__)

REMIND_KIND = "budget.remind_unconfirmed"
EVERY = timedelta(minutes=15)
BEFORE = timedelta(hours=48)
# The notification's detail (the e-mail adds when voting closes).
REMIND = N_("Your ballot is not confirmed, so it does not count. Confirm it before voting closes.")


def voting_ends(call: Call) -> datetime | None:
    """When voting ends for `call`: the start of review, else of results, else the closing."""
    return call.review_start or call.results_start or call.closes_at


def remind_due(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Remind, once per call, every budget call in its voting phase whose voting ends within 48
    hours: the citizens (active, not banned) whose ballot holds projects but is not confirmed
    get a notification (kind "ballot") linking to their ballot, with the e-mail they chose for
    that kind, which says when voting closes (city time). Returns how many people were told."""
    now = now or utcnow()
    told = 0
    rows = session.exec(select(Call, CallBudget).join(CallBudget, col(CallBudget.call_id) == Call.id)
                        .where(Call.voting_mode == VotingMode.budget, col(CallBudget.reminded_at).is_(None))).all()
    for call, budget in rows:
        end = voting_ends(call)
        if end is None or current_phase(call, now) != Phase.voting or now < end - BEFORE:
            continue
        session.refresh(budget, with_for_update=True)
        if budget.reminded_at is not None:
            continue  # another run reminded this call meanwhile
        people = session.exec(
            select(User).join(Ballot, col(Ballot.user_id) == User.id)
            .where(Ballot.call_id == call.id, col(Ballot.confirmed_at).is_(None),
                   col(Ballot.id).in_(select(BallotItem.ballot_id)),
                   col(User.deleted_at).is_(None), col(User.banned_at).is_(None))
            .order_by(col(User.id))).all()
        closes = end.astimezone(CITY_TZ).strftime("%d/%m/%Y %H:%M")
        told += len(notify_service.notify_each(session, settings, recipients=people, actor=None, news=News(
            kind=NotificationKind.ballot, link=links.path("budget:ballot", slug=call.slug, _anchor="ballot-summary"),
            subject=call.title, detail=REMIND, call_id=call.id, note=closes)))
        budget.reminded_at = now
        session.add(budget)
    return told


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
