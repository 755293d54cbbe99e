"""What the platform decides by itself is audited like a moderator's decision: by "the system"
(no actor), with the reason (issue 10, finding 3). Auto-hide after reports, spam holds, and the
consequences of a suspension (content hidden, sessions ended)."""

from sqlmodel import Session, col, select

from app.account.models import Role, UserSession
from app.comment.models import Comment
from app.moderation.models import AuditEntry
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def entries(session: Session, **where: object) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return list(session.exec(query.order_by(col(AuditEntry.id))).all())


def test_an_idea_hidden_by_reports_is_audited_as_a_system_decision(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=2)
    idea = make_idea(session, call, title="Une idée signalée")
    admin = make_user(session, role=Role.admin)
    moderator = make_user(session, role=Role.moderator)
    reporters = [make_user(session) for _ in range(2)]
    session.commit()
    for reporter in reporters:
        client.login_as(reporter)
        assert client.submit(f"/ideas/{idea.id}/report", {"reason": "spam"}).status_code == 303

    [hidden] = entries(session, target_type="idea", target_id=idea.id)
    assert hidden.actor_id is None
    assert hidden.action == "hide" and hidden.to_status == "hidden"
    assert hidden.reason
    assert hidden.details["reporters"] == 2 and hidden.details["threshold"] == 2

    client.cookies.clear()
    client.login_as(moderator)
    # The moderator's restore follows it; both show on the idea's moderation page.
    assert client.submit(f"/moderation/ideas/{idea.id}/restore", {"reason": "Rien à redire"}).status_code == 303
    assert [e.action for e in entries(session, target_type="idea", target_id=idea.id)] == ["hide", "restore"]
    page = client.get(f"/moderation/ideas/{idea.id}").text
    assert "Système" in page and "Masqué automatiquement" in page

    client.cookies.clear()
    client.login_as(admin)
    log = client.get("/admin/audit").text
    assert "Système" in log and "Masqué automatiquement" in log
    # The system can be picked as the author of decisions.
    system_only = client.get("/admin/audit?actor=system").text
    assert "Masqué automatiquement" in system_only and "Rien à redire" not in system_only


def test_a_comment_hidden_by_reports_is_audited_as_a_system_decision(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=2)
    idea = make_idea(session, call)
    writer = make_user(session)
    reporters = [make_user(session) for _ in range(2)]
    session.commit()
    client.login_as(writer)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Des propos limites"})
    comment = session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()
    for reporter in reporters:
        client.login_as(reporter)
        assert client.submit(f"/comments/{comment.id}/report", {"reason": "insult"}).status_code == 303

    [hidden] = entries(session, target_type="comment", target_id=comment.id)
    assert hidden.actor_id is None and hidden.action == "hide" and hidden.reason
    assert hidden.details["idea_id"] == idea.id and hidden.details["reporters"] == 2


def test_the_consequences_of_a_suspension_are_audited_one_by_one(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    troll = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    first = make_idea(session, call, troll, title="Première")
    second = make_idea(session, call, troll, title="Seconde")
    draft = make_idea(session, call, troll, title="Brouillon", status="draft")
    other = make_idea(session, call)
    session.commit()
    client.login_as(troll)
    client.submit(f"/ideas/{other.id}/comments", {"body": "Un commentaire à masquer"})
    comment = session.exec(select(Comment).where(Comment.author_id == troll.id)).one()
    client.cookies.clear()
    client.login_as(moderator)
    assert client.submit(f"/moderation/users/{troll.id}/ban",
                         {"reason": "Insultes répétées", "confirm": "yes", "hide_content": "1"}).status_code == 303

    [ban] = entries(session, action="ban")
    assert ban.actor_id == moderator.id
    for target_type, target_id in (("idea", first.id), ("idea", second.id), ("comment", comment.id)):
        [hide] = entries(session, target_type=target_type, target_id=target_id, action="hide")
        assert hide.actor_id is None, (target_type, target_id)
        assert hide.reason and hide.details["ban_entry"] == ban.id
    assert entries(session, target_type="idea", target_id=draft.id) == []
    [ended] = entries(session, action="end_sessions")
    assert ended.actor_id is None and ended.target_id == troll.id and ended.details["sessions"] == 1
    assert ended.details["ban_entry"] == ban.id
    assert session.exec(select(UserSession).where(UserSession.user_id == troll.id)).all() == []
    # The suspended person's page lists what the system did because of the suspension.
    page = client.get(f"/moderation/users/{troll.id}").text
    assert "Sessions fermées" in page and "Système" in page


def test_a_spam_hold_is_audited_as_a_system_decision_with_its_reason(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    newcomer = make_user(session)
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(newcomer)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Voyez https://promo.example.com"})
    [hold] = entries(session, action="hold")
    assert hold.actor_id is None and hold.reason
    client.cookies.clear()
    client.login_as(admin)
    log = client.get("/admin/audit").text
    assert "Système" in log and "Retenu automatiquement" in log
