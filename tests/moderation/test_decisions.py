"""Each decision: one audit entry, one public history line with its why, the author told."""

from sqlmodel import Session

from app.idea.models import Idea
from app.moderation.models import AuditEntry
from tests.moderation.helpers import audit_count, emails_to, history, notifications_for, world
from tests.support import WebClient


def test_approve_publishes_writes_one_audit_entry_and_tells_the_author(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    response = client.submit(f"/moderation/ideas/{w.idea.id}/approve")
    assert response.status_code == 303
    session.expire_all()
    idea = session.get(Idea, w.idea.id)
    assert idea is not None and idea.status == "published" and idea.published_at is not None
    assert audit_count(session) == 1
    entry = session.exec(__import__("sqlmodel").select(AuditEntry)).one()
    assert (entry.actor_id, entry.action, entry.target_id, entry.from_status, entry.to_status) == (
        w.moderator.id, "approve", w.idea.id, "submitted", "published")
    changes = history(session, w.idea.id)
    assert [(c.from_status, c.to_status, c.actor_id) for c in changes] == [("submitted", "published", w.moderator.id)]
    notes = notifications_for(session, w.author)
    assert len(notes) == 1 and notes[0].idea_id == w.idea.id
    assert len(emails_to(session, w.author.email)) == 1
    assert notifications_for(session, w.moderator) == []

