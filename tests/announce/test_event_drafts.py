"""When a call's event happens, the worker writes its announcement as a draft for moderators,
once, only for the events switched on for that call, never for stale or draft calls."""

from datetime import timedelta

from sqlmodel import Session, select

from app import clock
from app.announce import events, service
from app.announce.models import Announcement, AnnouncementStatus
from app.clock import utcnow
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.factories import make_call, make_user
from tests.support import WebClient


def _drafts(session: Session) -> list[tuple[int | None, str]]:
    session.expire_all()
    rows = session.exec(select(Announcement).order_by(Announcement.id)).all()  # type: ignore[arg-type]
    return [(a.call_id, a.event) for a in rows if a.status == AnnouncementStatus.draft]


def test_voting_opening_and_closing_soon_are_drafted_once_each(client: WebClient, session: Session,
                                                              settings: Settings) -> None:
    now = utcnow()
    call = make_call(session, phase="voting", title="Budget des quartiers",
                     submissions_start=now - timedelta(days=20), voting_start=now - timedelta(hours=3),
                     review_start=now + timedelta(hours=40))
    session.commit()
    events.draft_due(session, settings)
    events.draft_due(session, settings)  # again: nothing more
    session.commit()
    assert _drafts(session) == [(call.id, "voting_opens"), (call.id, "voting_closes_soon")]
    [opening] = [a for a in session.exec(select(Announcement)).all() if a.event == "voting_opens"]
    assert "Budget des quartiers" in opening.texts["fr"] and "Budget des quartiers" in opening.texts["nl"]
    assert opening.author_id is None and opening.status == "draft"
    # A moderator finds it in the list, ready to publish.
    client.login_as(make_user(session, role="moderator"))
    assert f"/moderation/announcements/{opening.id}" in client.get("/moderation/announcements").text


def test_switched_off_stale_and_draft_calls_get_no_draft(session: Session, settings: Settings) -> None:
    now = utcnow()
    switched_off = make_call(session, phase="submissions", submissions_start=now - timedelta(hours=1))
    service.set_enabled_events(session, actor=make_user(session, role="moderator"), call=switched_off,
                               enabled={"voting_opens"})
    make_call(session, phase="submissions", submissions_start=now - timedelta(days=5))  # long open: stale
    make_call(session, phase="draft")
    session.commit()
    assert events.draft_due(session, settings) == []


def test_an_event_announced_by_hand_is_not_drafted_again(session: Session, settings: Settings) -> None:
    now = utcnow()
    call = make_call(session, phase="submissions", submissions_start=now - timedelta(hours=1))
    mod = make_user(session, role="moderator")
    service.create_draft(session, actor=mod, settings=settings, event="call_opens", call=call)
    session.commit()
    assert events.draft_due(session, settings) == []


def test_the_worker_drafts_when_the_moment_comes_and_keeps_checking(client: WebClient, session: Session,
                                                                   settings: Settings) -> None:
    now = utcnow()
    call = make_call(session, phase="submissions", submissions_start=now - timedelta(days=10),
                     voting_start=now + timedelta(hours=1), review_start=now + timedelta(days=10))
    events.schedule(session, now)
    session.commit()
    client.run_worker()
    assert _drafts(session) == []  # voting has not opened yet
    with clock.travel(timedelta(hours=2)):
        client.run_worker()
    assert _drafts(session) == [(call.id, "voting_opens")]
    pending = session.exec(select(OutboxMessage).where(OutboxMessage.kind == events.DRAFT_KIND,
                                                       OutboxMessage.status == "pending")).all()
    assert len(pending) == 1  # the next check is queued
