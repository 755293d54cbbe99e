"""Following is a visible choice, and each person chooses, per kind of notification, e-mails at
once, a daily or weekly digest, or none (issue 10, finding 19).

Time is driven with app.clock.travel: a digest leaves the morning after its day (or the Monday
after its week), when the worker runs the job its first notification scheduled.
"""

import re
import threading
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import clock
from app.account.models import User
from app.db import Database
from app.follow import service as follow_service
from app.idea.models import Idea
from app.main import create_app
from app.notify import digest, periods
from app.notify import service as notify
from app.notify.models import EmailDelivery, Notification, NotificationDigest, NotificationKind
from app.outbox.models import OutboxMessage
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of, links_in, make_settings

TWO_DAYS = timedelta(days=2)  # past the next morning's digest hour, whatever the time now
EIGHT_DAYS = timedelta(days=8)  # past the next Monday morning


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def as_(client: WebClient, user: User) -> WebClient:
    client.cookies.clear()
    return client.login_as(user)


def choose(client: WebClient, user: User, **choices: str) -> None:
    """`user` saves the preferences form, as a browser without JavaScript would."""
    as_(client, user)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    form = {f"delivery_{kind}": "immediate" for kind in NotificationKind}  # every kind the form asks
    form.update({f"delivery_{kind}": value for kind, value in choices.items()})
    assert client.submit("/notifications/preferences", form).status_code == 303


def arrange(session: Session, *, reader_language: str = "fr") -> dict[str, object]:
    call = make_call(session, phase="voting")
    author = make_user(session, display_name="Autrice", email="autrice@example.org")
    idea = make_idea(session, call, author, title="Un verger au Sart-Tilman")
    other = make_idea(session, call, author, title="Des bancs place Cathédrale")
    reader = make_user(session, display_name="Lectrice", email="lectrice@example.org", language=reader_language)
    commenter = make_user(session, display_name="Camille", email="camille@example.org")
    follow_service.follow(session, idea_id=idea.id, user_id=author.id)  # as writing it does
    session.commit()
    return {"call": call, "author": author, "idea": idea, "other": other, "reader": reader, "commenter": commenter}


def follow(client: WebClient, user: User, idea: Idea) -> None:
    as_(client, user)
    assert client.submit(f"/ideas/{idea.id}/follow").status_code == 303


def comment(client: WebClient, commenter: User, idea: Idea, count: int, start: int = 1) -> None:
    as_(client, commenter)
    for n in range(start, start + count):
        assert client.submit(f"/ideas/{idea.id}/comments", {"body": f"Commentaire numéro {n}"}).status_code == 303


def test_daily_digest_gathers_four_comments_in_one_email_the_next_morning(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session, reader_language="nl")
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment="daily")
    comment(mail_client, w["commenter"], idea, 4)  # type: ignore[arg-type]

    mail_client.run_worker()
    assert smtp.to("lectrice@example.org") == []  # nothing at once
    session.expire_all()
    assert len(session.exec(select(Notification).where(Notification.user_id == reader.id)).all()) == 4  # on the site

    with clock.travel(TWO_DAYS):
        mail_client.run_worker()
        mail_client.run_worker()  # the job ran; running the worker again sends nothing more
    [message] = smtp.to("lectrice@example.org")
    assert subject(message) == "Uw dagelijks overzicht: 4 meldingen"
    body = body_of(message)
    assert body.count("Camille reageerde op ‘Un verger au Sart-Tilman’") == 4
    comment_links = [u for u in links_in(message) if f"/ideas/{idea.id}#comment-" in u]
    assert len(set(comment_links)) == 4
    assert any("/notifications/unsubscribe/" in u for u in links_in(message))
    # The author follows her own idea and chose nothing: one e-mail per comment, at once.
    assert len(smtp.to("autrice@example.org")) == 4


@pytest.mark.parametrize(("choice", "expected"), [("immediate", 4), ("none", 0)])
def test_immediate_sends_each_comment_and_none_sends_nothing(
        mail_client: WebClient, smtp: SmtpSink, session: Session, choice: str, expected: int) -> None:
    w = arrange(session)
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment=choice)
    comment(mail_client, w["commenter"], idea, 4)  # type: ignore[arg-type]
    mail_client.run_worker()
    with clock.travel(EIGHT_DAYS):
        mail_client.run_worker()
    assert len(smtp.to("lectrice@example.org")) == expected
    session.expire_all()
    # Whatever the e-mails, the site still lists them.
    assert len(session.exec(select(Notification).where(Notification.user_id == reader.id)).all()) == 4


def test_weekly_digest_waits_for_monday(mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session)
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment="weekly")
    comment(mail_client, w["commenter"], idea, 2)  # type: ignore[arg-type]
    now = clock.utcnow()
    period = periods.period_of(EmailDelivery.weekly, now)
    with clock.travel(period.send_at - now - timedelta(minutes=1)):
        mail_client.run_worker()
    assert smtp.to("lectrice@example.org") == []  # a minute before Monday 7:00, nothing yet
    with clock.travel(period.send_at - now + timedelta(minutes=1)):
        mail_client.run_worker()
    [message] = smtp.to("lectrice@example.org")
    assert subject(message) == "Votre récapitulatif hebdomadaire\u202f: 2 notifications"
    assert period.send_at.weekday() == 0 or period.send_at.astimezone(periods.CITY_TZ).weekday() == 0


def test_supporting_an_idea_does_not_follow_it_and_following_is_shown(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session)
    reader, idea, author = w["reader"], w["idea"], w["author"]
    assert isinstance(reader, User) and isinstance(idea, Idea) and isinstance(author, User)

    as_(mail_client, reader)
    assert mail_client.submit(f"/ideas/{idea.id}/vote").status_code == 303
    page = mail_client.get(f"/ideas/{idea.id}").text
    assert "Retirer mon soutien" in page
    assert f'action="/ideas/{idea.id}/follow"' in page  # the choice, offered, not made for her
    session.expire_all()
    assert not follow_service.is_following(session, idea_id=idea.id, user_id=reader.id)

    comment(mail_client, w["commenter"], idea, 1)  # type: ignore[arg-type]
    mail_client.run_worker()
    with clock.travel(EIGHT_DAYS):
        mail_client.run_worker()
    session.expire_all()
    assert session.exec(select(Notification).where(Notification.user_id == reader.id)).all() == []
    assert smtp.to("lectrice@example.org") == []
    # Commenting does not follow either; the author follows her idea, and her page says so.
    assert not follow_service.is_following(session, idea_id=idea.id, user_id=w["commenter"].id)  # type: ignore[union-attr]
    as_(mail_client, author)
    own = mail_client.get(f"/ideas/{idea.id}").text
    assert "Vous suivez votre idée" in own and f'action="/ideas/{idea.id}/unfollow"' in own
    # Following, then unfollowing, is hers to choose, and the page shows where she stands.
    follow(mail_client, reader, idea)
    assert "Vous suivez cette idée" in mail_client.get(f"/ideas/{idea.id}").text
    assert mail_client.submit(f"/ideas/{idea.id}/unfollow").status_code == 303
    assert f'action="/ideas/{idea.id}/follow"' in mail_client.get(f"/ideas/{idea.id}").text


def test_results_reach_supporters_who_do_not_follow(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    supporter = make_user(session)
    session.commit()
    as_(client, supporter)
    assert client.submit(f"/ideas/{idea.id}/vote").status_code == 303
    with client.db.transaction() as tx:
        stored = tx.get(type(call), call.id)
        assert stored is not None
        assert notify.results_published(tx, client.settings, call=stored, actor=None) == 2  # and the author
    session.expire_all()
    [note] = session.exec(select(Notification).where(Notification.user_id == supporter.id)).all()
    assert note.kind == "results"


def _digest_job(session: Session) -> OutboxMessage:
    [job] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == periods.DIGEST_JOB)).all()
    return job


def _digest_emails(session: Session) -> list[OutboxMessage]:
    return [m for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
            if m.dedupe_key and m.dedupe_key.startswith("notify.digest:")]


def test_a_digest_period_is_sent_once_even_run_twice_or_by_two_workers(
        mail_client: WebClient, smtp: SmtpSink, session: Session, db: Database) -> None:
    w = arrange(session)
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment="daily")
    comment(mail_client, w["commenter"], idea, 4)  # type: ignore[arg-type]
    session.expire_all()
    job = _digest_job(session)  # one job for the period, whatever the number of notifications
    settings = mail_client.settings

    with clock.travel(TWO_DAYS):
        # Two workers running the same job at the same moment (a claim that expired, say).
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait(timeout=10)
                digest.run(settings, mail_client.db, job.id or 0, dict(job.payload))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        # Then the outbox runs it again (a restart), and once more by hand.
        mail_client.run_worker()
        digest.run(settings, mail_client.db, job.id or 0, dict(job.payload))
        mail_client.run_worker()

        # Even with its notifications waiting again, the (person, period) key holds.
        session.expire_all()
        for n in session.exec(select(Notification).where(Notification.user_id == reader.id)).all():
            n.digested_at = None
            session.add(n)
        session.commit()
        digest.run(settings, mail_client.db, job.id or 0, dict(job.payload))
        mail_client.run_worker()

    session.expire_all()
    assert len(session.exec(select(NotificationDigest).where(NotificationDigest.user_id == reader.id)).all()) == 1
    assert len(_digest_emails(session)) == 1
    assert len(smtp.to("lectrice@example.org")) == 1


def test_a_digest_holds_only_what_its_reader_may_still_see(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session)
    reader, idea, other = w["reader"], w["idea"], w["other"]
    assert isinstance(reader, User) and isinstance(idea, Idea) and isinstance(other, Idea)
    moderator = make_user(session, role="moderator")
    session.commit()
    follow(mail_client, reader, idea)
    follow(mail_client, reader, other)
    choose(mail_client, reader, comment="daily", status="daily")
    comment(mail_client, w["commenter"], idea, 2)  # type: ignore[arg-type]
    comment(mail_client, w["commenter"], other, 1, start=3)  # type: ignore[arg-type]
    session.expire_all()
    hidden_comment = session.exec(select(Notification).where(Notification.user_id == reader.id,
                                                             Notification.idea_id == idea.id)).first()
    assert hidden_comment is not None and hidden_comment.comment_id is not None
    as_(mail_client, moderator)
    assert mail_client.submit(f"/moderation/ideas/{other.id}/hide", {"reason": "Doublon"}).status_code == 303
    assert mail_client.submit(f"/moderation/comments/{hidden_comment.comment_id}/hide",
                              {"reason": "Propos injurieux"}).status_code == 303
    mail_client.run_worker()

    with clock.travel(TWO_DAYS):
        mail_client.run_worker()
    [message] = smtp.to("lectrice@example.org")
    body = body_of(message)
    assert subject(message) == "Votre récapitulatif du jour\u202f: 1 notification"
    assert body.count("Camille a commenté «\u202fUn verger au Sart-Tilman\u202f»") == 1
    assert "Des bancs place Cathédrale" not in body  # hidden since: neither its title nor its news
    assert f"#comment-{hidden_comment.comment_id}" not in body


def test_nothing_is_sent_when_everything_became_invisible(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session)
    reader, other = w["reader"], w["other"]
    assert isinstance(reader, User) and isinstance(other, Idea)
    moderator = make_user(session, role="moderator")
    session.commit()
    follow(mail_client, reader, other)
    choose(mail_client, reader, comment="daily")
    comment(mail_client, w["commenter"], other, 2)  # type: ignore[arg-type]
    as_(mail_client, moderator)
    assert mail_client.submit(f"/moderation/ideas/{other.id}/hide", {"reason": "Doublon"}).status_code == 303
    with clock.travel(TWO_DAYS):
        mail_client.run_worker()
    assert smtp.to("lectrice@example.org") == []
    session.expire_all()
    [record] = session.exec(select(NotificationDigest).where(NotificationDigest.user_id == reader.id)).all()
    assert record.item_count == 0


def test_unsubscribing_from_a_digest_switches_its_kinds_to_none(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = arrange(session)
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment="daily", status="weekly")
    comment(mail_client, w["commenter"], idea, 1)  # type: ignore[arg-type]
    with clock.travel(TWO_DAYS):
        mail_client.run_worker()
    [message] = smtp.to("lectrice@example.org")
    links = [u for u in links_in(message) if "/notifications/unsubscribe/" in u]
    assert links
    mail_client.cookies.clear()  # from the mailbox, not logged in
    path = links[0].removeprefix("http://testserver")
    assert "Nouveaux commentaires sur les idées que je suis" in mail_client.get(path).text
    assert mail_client.submit(path).status_code == 200
    session.expire_all()
    prefs = notify.delivery_preferences(session, reader.id or 0)
    assert prefs["comment"] == EmailDelivery.none
    assert prefs["status"] == EmailDelivery.weekly  # the other kinds keep their choice


def test_a_kind_switched_off_leaves_the_waiting_digest(mail_client: WebClient, smtp: SmtpSink,
                                                       session: Session) -> None:
    w = arrange(session)
    reader, idea = w["reader"], w["idea"]
    assert isinstance(reader, User) and isinstance(idea, Idea)
    follow(mail_client, reader, idea)
    choose(mail_client, reader, comment="daily")
    comment(mail_client, w["commenter"], idea, 2)  # type: ignore[arg-type]
    token = notify.unsubscribe_token(mail_client.settings, user_id=reader.id or 0, kind="comment")
    mail_client.cookies.clear()
    assert mail_client.submit(f"/notifications/unsubscribe/{token}").status_code == 200
    with clock.travel(TWO_DAYS):
        mail_client.run_worker()
    assert smtp.to("lectrice@example.org") == []


def test_preferences_page_offers_four_choices_per_kind_and_refuses_bad_input(
        client: WebClient, session: Session) -> None:
    user = make_user(session)
    session.commit()
    as_(client, user)
    page = client.get("/notifications/preferences").text
    for label in ("Immédiatement", "Récapitulatif quotidien", "Récapitulatif hebdomadaire", "Aucun e-mail"):
        # comment, reply, status, results, edited, support, assistant, ballot (report: staff)
        assert page.count(f">{label}</label>") == 8
    assert 'name="delivery_comment" value="immediate" id="f-delivery_comment-immediate" checked' in page

    refused = client.submit("/notifications/preferences", {
        "delivery_comment": "hourly", "delivery_reply": "daily", "delivery_status": "none"})
    assert refused.status_code == 422
    assert "Choisissez comment recevoir ces e-mails." in refused.text
    session.expire_all()
    assert set(notify.delivery_preferences(session, user.id or 0).values()) == {EmailDelivery.immediate}

    assert client.submit("/notifications/preferences", {
        "delivery_comment": "weekly", "delivery_reply": "daily", "delivery_status": "none",
        "delivery_results": "immediate", "delivery_edited": "daily", "delivery_support": "daily",
        "delivery_assistant": "none", "delivery_ballot": "weekly", "delivery_report": "none"}).status_code == 303
    session.expire_all()
    # A citizen cannot set a moderators' kind.
    assert notify.delivery_preferences(session, user.id or 0) == {
        "comment": "weekly", "reply": "daily", "status": "none", "results": "immediate", "support": "daily",
        "report": "immediate", "edited": "daily", "assistant": "none", "ballot": "weekly"}
    assert 'value="weekly" id="f-delivery_comment-weekly" checked' in client.get("/notifications/preferences").text


def test_a_digest_passes_mailbox_checks_and_its_one_click_stops_what_it_holds(
        tmp_path: Path, database_url: str, smtp: SmtpSink, session: Session) -> None:
    base = "https://participation.example.be"
    app = create_app(make_settings(tmp_path / "var", database_url, base_url=base, smtp_url=smtp.url))
    with WebClient(app, base_url=base) as client:
        w = arrange(session)
        reader, idea = w["reader"], w["idea"]
        assert isinstance(reader, User) and isinstance(idea, Idea)
        follow(client, reader, idea)
        choose(client, reader, comment="daily", status="daily", reply="weekly")
        comment(client, w["commenter"], idea, 2)  # type: ignore[arg-type]
        with client.db.transaction() as tx:
            stored = tx.get(Idea, idea.id)
            assert stored is not None
            notify.idea_status_changed(tx, client.settings, idea=stored, actor=None, to_status="accepted")
        with clock.travel(TWO_DAYS):
            client.run_worker()
        [message] = smtp.to("lectrice@example.org")
        part = next(p for p in message.walk() if p.get_content_type() == "text/html")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        html = payload.decode(part.get_content_charset() or "utf-8")
        hrefs = re.findall(r'href="([^"]+)"', html)
        # Every link of the text is one of ours, on the public address, and an anchor in HTML.
        assert sorted(set(hrefs)) == sorted(set(links_in(message)))
        assert all(h.startswith(base + "/") for h in hrefs)
        assert sum(f"/ideas/{idea.id}#comment-" in h for h in hrefs) == 2
        one_click = message["List-Unsubscribe"].strip("<>")
        assert one_click.endswith("/one-click") and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        provider = WebClient(app, base_url=base)  # a mailbox provider: no cookie, no CSRF token
        done = provider.post(one_click.removeprefix(base), content="List-Unsubscribe=One-Click",
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200
        session.expire_all()
        assert notify.delivery_preferences(session, reader.id or 0) == {
            "comment": "none", "status": "none", "reply": "weekly", "results": "immediate", "report": "immediate",
            "edited": "immediate", "support": "immediate", "assistant": "immediate", "ballot": "immediate"}
