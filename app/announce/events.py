"""Drafts written when a call's event happens, so that moderators find them ready to read,
adjust and publish: the call opens for ideas, voting opens, voting closes in 48 hours.

The worker calls `draft_due` every few minutes (outbox kind `announce.draft_events`, which
queues its own next run). An event is drafted once per call, only when it is switched on for
that call (app.announce.service.enabled_events), only within DRAFT_WINDOW after its moment (a
platform started long after a call opened does not draft stale news), and never when an
announcement of that event already exists for the call (drafted by hand, published or
cancelled). Nothing is published without a moderator; results and official answers are drafted
from their own pages ("Announce the results", "Announce this answer").
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.announce import service
from app.announce.models import Announcement, AnnouncementEvent
from app.call.models import Call, Phase
from app.call.phases import current_phase, is_public
from app.clock import utcnow
from app.db import Database
from app.outbox import service as outbox
from app.settings import Settings

log = logging.getLogger(__name__)

DRAFT_KIND = "announce.draft_events"
EVERY = timedelta(minutes=5)
DRAFT_WINDOW = timedelta(days=2)
CLOSING_NOTICE = timedelta(hours=48)


def moment_of(call: Call, event: str) -> datetime | None:
    """When `event` happens for `call`: the start of submissions or of voting, or 48 hours
    before voting ends (the start of review, else of results, else the closing); None when
    the call has no such date."""
    if event == AnnouncementEvent.call_opens:
        return call.submissions_start
    if event == AnnouncementEvent.voting_opens:
        return call.voting_start
    if event == AnnouncementEvent.voting_closes_soon:
        end = call.review_start or call.results_start or call.closes_at
        return end - CLOSING_NOTICE if end and call.voting_start else None
    return None


AUTOMATIC = (AnnouncementEvent.call_opens, AnnouncementEvent.voting_opens, AnnouncementEvent.voting_closes_soon)
# The phase a call must be in for its event to be news (voting closing soon while voting is open).
PHASE_OF = {AnnouncementEvent.call_opens: Phase.submissions, AnnouncementEvent.voting_opens: Phase.voting,
            AnnouncementEvent.voting_closes_soon: Phase.voting}


def draft_due(session: Session, settings: Settings, now: datetime | None = None) -> list[Announcement]:
    """Write the drafts of the events that happened within DRAFT_WINDOW and have none yet
    (see the module's docstring), while the call is in the phase the event opens (voting
    closing soon: while voting is open). Returns the new drafts."""
    now = now or utcnow()
    written = []
    for call in session.exec(select(Call).order_by(col(Call.id))).all():
        if not is_public(call, now):
            continue
        assert call.id is not None
        enabled = service.enabled_events(session, call.id)
        for event in AUTOMATIC:
            moment = moment_of(call, event)
            if event not in enabled or moment is None or not (moment <= now < moment + DRAFT_WINDOW):
                continue
            if current_phase(call, now) != PHASE_OF[event]:
                continue
            exists = session.exec(select(Announcement.id).where(
                Announcement.call_id == call.id, Announcement.event == event)).first()
            if exists is not None:
                continue
            written.append(service.draft_for_event(session, settings=settings, event=event, call=call))
    return written


def run(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `announce.draft_events`: draft what is due, then queue the next run."""
    with db.transaction() as session:
        drafts = draft_due(session, settings)
        schedule(session, utcnow() + EVERY)
    if drafts:
        log.info("%s announcement drafts written for moderators", len(drafts))


def schedule(session: Session, at: datetime) -> None:
    """Queue a run of `draft_due` at `at` (one message per five-minute slot)."""
    slot = int(at.timestamp()) // int(EVERY.total_seconds())
    outbox.enqueue(session, DRAFT_KIND, {}, dedupe_key=f"{DRAFT_KIND}:{slot}", run_at=at)
