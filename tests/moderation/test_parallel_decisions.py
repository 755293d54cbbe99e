"""Several moderators deciding on the same idea at the same moment: one decision wins, the others
are told it is no longer possible, and the audit log holds exactly one entry."""

from sqlmodel import Session, col, select

from app.account.models import Role
from app.idea.models import Idea, IdeaStatusChange
from app.moderation.models import AuditEntry, ModeratorAssignment
from tests.factories import make_user
from tests.moderation.helpers import world
from tests.support import LiveServer
from tests.vote.parallel import browser, in_parallel, session_token


def test_parallel_decisions_on_one_idea_write_one_audit_entry(live_server: LiveServer, session: Session) -> None:
    w = world(session)
    moderators = [w.moderator, w.admin] + [make_user(session, role=Role.moderator) for _ in range(2)]
    session.commit()
    clients = [browser(live_server, session_token(session, m), json=False) for m in moderators]
    url = f"/moderation/ideas/{w.idea.id}/approve"

    def decide(i: int) -> int:
        return clients[i].post(url).status_code

    statuses = in_parallel(len(clients), decide)
    for c in clients:
        c.close()
    assert sorted(statuses) == [303, 409, 409, 409]
    session.expire_all()
    entries = session.exec(select(AuditEntry)).all()
    assert len(entries) == 1
    idea = session.get(Idea, w.idea.id)
    assert idea is not None and idea.status == entries[0].to_status == "published"
    changes = session.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == w.idea.id)
                           .order_by(col(IdeaStatusChange.id))).all()
    assert [(c.from_status, c.to_status) for c in changes] == [("submitted", idea.status)]


def test_parallel_assignments_of_one_moderator_make_one_row(live_server: LiveServer, session: Session) -> None:
    w = world(session)
    admins = [w.admin] + [make_user(session, role=Role.admin) for _ in range(5)]
    session.commit()
    clients = [browser(live_server, session_token(session, a), json=False) for a in admins]
    url = f"/admin/calls/{w.call.id}/moderators"

    def assign(i: int) -> int:
        return clients[i].post(url, data={"user_id": str(w.moderator.id)}).status_code

    statuses = in_parallel(len(clients), assign)
    for c in clients:
        c.close()
    # Each admin is sent back to the page with a message: assigned, or already assigned.
    assert statuses == [303] * len(admins)
    session.expire_all()
    rows = session.exec(select(ModeratorAssignment).where(ModeratorAssignment.call_id == w.call.id)).all()
    assert [r.user_id for r in rows] == [w.moderator.id]
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "assign_moderator")).all()
    assert len(entries) == 1
