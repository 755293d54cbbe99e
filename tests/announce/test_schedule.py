"""A scheduled announcement is published by the worker when due, exactly once; a rolled-back
transaction leaves no outbox message."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app import clock
from app.announce import delivery, service
from app.announce.models import Announcement, AnnouncementStatus
from app.audit import AuditEntry
from app.db import Database
from app.errors import InvalidTransition
from app.i18n import CITY_TZ
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.announce.helpers import add_channel, draft, moderator, send
from tests.factories import make_call, make_user
from tests.support import WebClient


def _announce_jobs(session: Session) -> list[OutboxMessage]:
    """The deliveries queued: one per channel of the test's one channel, a webhook."""
    session.expire_all()
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == delivery.DELIVER_KIND)).all())


def test_a_scheduled_announcement_is_published_by_the_worker_once(client: WebClient, session: Session,
                                                                  settings: Settings) -> None:
    add_channel(session, settings)
    call = make_call(session, phase="voting", slug="planifiee")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_closes_soon")
    at = (clock.utcnow() + timedelta(hours=2)).astimezone(CITY_TZ).replace(second=0, microsecond=0)
    response = send(client, announcement, "schedule", scheduled_at=at.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.scheduled
    assert announcement.scheduled_at == at
    assert "Aucune annonce pour l’instant." in client.get("/announcements").text
    assert client.run_worker() == 0  # not due yet
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.scheduled and not _announce_jobs(session)
    assert client.get(f"/announcements/{announcement.id}").status_code == 404

    with clock.travel(timedelta(hours=3)):
        client.run_worker()  # publishes, and queues its delivery to the channel
        client.run_worker()  # the delivery fails (nothing listens) and waits for its retry
        # A second worker's handler run by hand on the same message changes nothing either.
        assert not service.publish_due(session, announcement.id or 0)
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.published
    assert announcement.delivery_note == ""
    assert len(_announce_jobs(session)) == 1
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "announce_publish")).all()
    assert [(e.actor_id, e.reason) for e in entries] == [(None, "Published automatically at its scheduled time.")]
    assert announcement.texts["fr"] in client.get(f"/announcements/{announcement.id}").text


def test_a_cancelled_scheduled_announcement_is_never_published(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    at = (clock.utcnow() + timedelta(hours=1)).astimezone(CITY_TZ)
    assert send(client, announcement, "schedule", scheduled_at=at.strftime("%Y-%m-%dT%H:%M")).status_code == 303
    assert client.submit(f"/moderation/announcements/{announcement.id}/cancel").status_code == 303
    with clock.travel(timedelta(hours=2)):
        client.run_worker()
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.cancelled and not _announce_jobs(session)


def test_a_rolled_back_publication_leaves_no_outbox_message(db: Database, session: Session,
                                                             settings: Settings) -> None:
    add_channel(session, settings)
    call = make_call(session, phase="voting")
    author = make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Bientôt"}, author_id=author.id)
    session.add(announcement)
    session.commit()
    with pytest.raises(RuntimeError), db.transaction() as tx:
        loaded = tx.get(Announcement, announcement.id)
        mod = tx.get(type(author), author.id)
        assert loaded is not None and mod is not None
        service.publish(tx, actor=mod, announcement=loaded)
        assert tx.exec(select(OutboxMessage)).first() is not None  # written in the transaction...
        raise RuntimeError("the moderator's request failed after publishing")
    assert not _announce_jobs(session)  # ...and gone with it
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.draft


def test_two_moderators_publishing_at_once_publish_once(db: Database, session: Session, settings: Settings) -> None:
    """The second one read the announcement as a draft before the first committed: its
    publication changes nothing and is refused, on SQLite as on PostgreSQL."""
    call = make_call(session, phase="voting")
    add_channel(session, settings)
    first_mod, second_mod = make_user(session, role="moderator"), make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Une fois"}, author_id=first_mod.id)
    session.add(announcement)
    session.commit()
    with db.session() as reading:  # the second moderator's request reads the draft first
        stale = reading.get(Announcement, announcement.id)
        assert stale is not None and stale.status == AnnouncementStatus.draft
        reading.expunge(stale)
    with db.transaction() as first:
        loaded = first.get(Announcement, announcement.id)
        mod = first.get(type(first_mod), first_mod.id)
        assert loaded is not None and mod is not None
        service.publish(first, actor=mod, announcement=loaded)
    with pytest.raises(InvalidTransition), db.transaction() as late:
        late_mod = late.get(type(second_mod), second_mod.id)
        assert late_mod is not None
        # What it read, as it read it: still a draft in its eyes.
        as_read = late.merge(stale, load=False)
        assert as_read.status == AnnouncementStatus.draft
        service.publish(late, actor=late_mod, announcement=as_read)
    assert len(_announce_jobs(session)) == 1
    assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "announce_publish")).all()) == 1
