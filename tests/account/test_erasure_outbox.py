"""Erasure reaches queued messages (issue 10, finding 20): e-mails waiting for a deleted person
are cancelled and keep no address, the worker checks at send time that the recipient still
exists and may still be told, other people's notifications lose the deleted person's name, and
delivered e-mails keep no address. Through the real worker and a real SMTP server."""

import json
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import clock
from app.account.models import Role, User
from app.clock import utcnow
from app.follow import service as follow_service
from app.idea.models import Idea
from app.notify import digest, periods
from app.notify.models import Notification, NotificationKind
from app.outbox.models import OutboxMessage
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of

PASSWORD = "les chaises de la Batte"
ALICE = "alice.privee@example.org"


def _outbox_text(session: Session) -> str:
    session.expire_all()
    return json.dumps([r.payload for r in session.exec(select(OutboxMessage)).all()], ensure_ascii=False)


def _arrange(session: Session) -> tuple[User, User, Idea]:
    call = make_call(session, phase="voting")
    alice = make_user(session, email=ALICE, display_name="Alice Martin", password=PASSWORD)
    bruno = make_user(session, email="bruno@example.org", display_name="Bruno Lejeune", password=PASSWORD)
    idea = make_idea(session, call, title="Un kiosque au parc")
    follow_service.follow(session, idea_id=idea.id, user_id=alice.id)
    session.commit()
    return alice, bruno, idea


def test_a_deleted_person_gets_none_of_the_mail_queued_for_them(mail_client: WebClient, smtp: SmtpSink,
                                                                 session: Session) -> None:
    alice, bruno, idea = _arrange(session)
    mail_client.login_as(bruno)
    assert mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"}).status_code == 303
    assert ALICE in _outbox_text(session)

    mail_client.cookies.clear()
    mail_client.login_as(alice)
    assert mail_client.submit("/account/delete", {"password": PASSWORD}).status_code == 303
    assert ALICE not in _outbox_text(session)

    mail_client.run_worker()
    assert smtp.to(ALICE) == []
    assert ALICE not in _outbox_text(session)
    statuses = {r.status for r in session.exec(select(OutboxMessage)).all()}
    assert "cancelled" in statuses


def test_the_worker_checks_at_send_time_that_the_recipient_still_exists(mail_client: WebClient, smtp: SmtpSink,
                                                                         session: Session) -> None:
    """The deletion committed while the worker held the message: the worker looks again."""
    alice, bruno, idea = _arrange(session)
    mail_client.login_as(bruno)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"})
    # What a deletion leaves behind, without its outbox clean-up (as if the worker had already
    # claimed the message when the deletion ran).
    session.execute(update(User).where(col(User.id) == alice.id).values(deleted_at=utcnow()))
    session.commit()

    mail_client.run_worker()
    assert smtp.to(ALICE) == []
    session.expire_all()
    [message] = session.exec(select(OutboxMessage)).all()
    assert message.status == "cancelled"
    assert ALICE not in json.dumps(message.payload)


def test_a_suspended_follower_is_not_told_but_still_gets_the_suspension_notice(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    alice, bruno, idea = _arrange(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    mail_client.login_as(bruno)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"})
    mail_client.cookies.clear()
    mail_client.login_as(moderator)
    banned = mail_client.submit(f"/moderation/users/{alice.id}/ban", {"reason": "Faux compte", "confirm": "yes"})
    assert banned.status_code == 303

    mail_client.run_worker()
    received = smtp.to(ALICE)
    assert len(received) == 1
    assert "Faux compte" in body_of(received[0])


def test_other_peoples_notifications_lose_the_deleted_persons_name(mail_client: WebClient, smtp: SmtpSink,
                                                                    session: Session) -> None:
    alice, bruno, idea = _arrange(session)
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice Zoé", password=PASSWORD)
    session.commit()
    mail_client.login_as(bruno)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"})
    mail_client.cookies.clear()
    mail_client.login_as(moderator)
    assert mail_client.submit(f"/moderation/ideas/{idea.id}/answer",
                              {"answer_status": "under_study", "answer_md": "Nous étudions la question."}
                              ).status_code == 303
    mail_client.cookies.clear()
    mail_client.login_as(alice)
    assert "Bruno Lejeune a commenté" in mail_client.get("/notifications").text

    for person in (bruno, moderator):
        mail_client.cookies.clear()
        mail_client.login_as(person)
        assert mail_client.submit("/account/delete", {"password": PASSWORD}).status_code == 303

    session.expire_all()
    stored = json.dumps([n.model_dump(mode="json") for n in session.exec(select(Notification)).all()],
                        ensure_ascii=False)
    assert "Bruno" not in stored and "Zoé" not in stored
    assert "Bruno" not in _outbox_text(session) and "Zoé" not in _outbox_text(session)

    mail_client.cookies.clear()
    mail_client.login_as(alice)
    page = mail_client.get("/notifications").text
    assert "Bruno" not in page and "Zoé" not in page
    assert "Ancien membre a commenté «\u202fUn kiosque au parc\u202f»" in page

    mail_client.run_worker()
    delivered = smtp.to(ALICE)
    assert len(delivered) == 2
    for message in delivered:
        assert "Bruno" not in body_of(message) and "Zoé" not in body_of(message)
    assert "Ancien membre a commenté" in body_of(delivered[0])


def test_a_delivered_email_keeps_no_address(mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    alice, bruno, idea = _arrange(session)
    mail_client.login_as(bruno)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"})
    mail_client.run_worker()
    assert len(smtp.to(ALICE)) == 1
    session.expire_all()
    [message] = session.exec(select(OutboxMessage)).all()
    assert message.status == "done"
    assert ALICE not in json.dumps(message.payload)
    assert message.payload.get("user_id") == alice.id  # who it went to, as a reference that erasure keeps


def test_a_digest_waiting_to_be_sent_is_written_anew_from_what_is_true_then(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    alice, bruno, idea = _arrange(session)
    other = make_idea(session, make_call(session, phase="voting"), title="Des bancs place Cathédrale")
    moderator = make_user(session, role=Role.moderator)
    follow_service.follow(session, idea_id=other.id, user_id=alice.id)
    session.commit()
    mail_client.login_as(alice)
    form = {f"delivery_{kind}": "immediate" for kind in NotificationKind}  # every kind the form asks
    assert mail_client.submit("/notifications/preferences", {**form, "delivery_comment": "daily"}).status_code == 303
    mail_client.cookies.clear()
    mail_client.login_as(bruno)
    for target in (idea, other):
        assert mail_client.submit(f"/ideas/{target.id}/comments", {"body": "Bonne idée"}).status_code == 303
    session.expire_all()
    [job] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == periods.DIGEST_JOB)).all()

    with clock.travel(timedelta(days=2)):
        # The digest e-mail is queued, with both comments and Bruno's name...
        digest.run(mail_client.settings, mail_client.db, job.id or 0, dict(job.payload))
        assert "Bruno Lejeune" in _outbox_text(session) and "Des bancs" in _outbox_text(session)
        # ...then, before the worker sends it, one idea is hidden and Bruno leaves.
        mail_client.cookies.clear()
        mail_client.login_as(moderator)
        assert mail_client.submit(f"/moderation/ideas/{other.id}/hide", {"reason": "Doublon"}).status_code == 303
        mail_client.cookies.clear()
        mail_client.login_as(bruno)
        assert mail_client.submit("/account/delete", {"password": PASSWORD}).status_code == 303
        assert "Bruno" not in _outbox_text(session)
        mail_client.run_worker()

    [message] = smtp.to(ALICE)
    body = body_of(message)
    assert "Ancien membre a commenté «\u202fUn kiosque au parc\u202f»" in body
    assert "Bruno" not in body and "Des bancs" not in body
