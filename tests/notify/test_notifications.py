"""Notifications in the site and by e-mail (a real SMTP server), in the recipient's language,
with an unsubscribe link that works without logging in and refuses a tampered token."""

from email.header import decode_header, make_header
from email.message import Message

import pytest
from sqlmodel import Session, select

from app import mail
from app.account.models import User
from app.call.models import Call
from app.clock import utcnow
from app.follow import service as follow_service
from app.idea import service as idea_service
from app.idea.models import Idea
from app.notify import periods
from app.notify import service as notify
from app.notify.models import EmailDelivery, Notification
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.factories import make_call, make_comment, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of, counting, links_in


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_comment_mail_reaches_followers_in_their_language(mail_client: WebClient, smtp: SmtpSink,
                                                          session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session, language="nl", email="auteur@example.org")
    idea = make_idea(session, call, author, title="Meer bomen")
    follow_service.follow(session, idea_id=idea.id, user_id=author.id)
    german = make_user(session, language="de", email="leserin@example.org")
    follow_service.follow(session, idea_id=idea.id, user_id=german.id)
    commenter = make_user(session, display_name="Camille", email="camille@example.org")
    session.commit()

    mail_client.login_as(commenter)
    assert mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"}).status_code == 303
    mail_client.run_worker()

    dutch = smtp.last_to("auteur@example.org")
    assert subject(dutch) == "Nieuwe reactie op ‘Meer bomen’"
    assert "Camille reageerde op een idee dat u volgt" in body_of(dutch)
    german_mail = smtp.last_to("leserin@example.org")
    assert subject(german_mail) == "Neuer Kommentar zu „Meer bomen“"
    # Never told about one's own comment.
    assert smtp.to("camille@example.org") == []
    assert f"http://testserver/ideas/{idea.id}#comment-" in body_of(dutch)


def test_unsubscribe_link_works_without_login_and_refuses_tampering(mail_client: WebClient, smtp: SmtpSink,
                                                                    session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session, email="suiveuse@example.org")
    idea = make_idea(session, call, author)
    follow_service.follow(session, idea_id=idea.id, user_id=author.id)
    first, second = make_user(session), make_user(session)
    session.commit()

    mail_client.login_as(first)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Premier commentaire"})
    mail_client.run_worker()
    message = smtp.last_to("suiveuse@example.org")
    assert subject(message).startswith("Nouveau commentaire sur «\u202f")
    link = next(u for u in links_in(message) if "/notifications/unsubscribe/" in u)
    path = link.removeprefix("http://testserver")

    mail_client.cookies.clear()  # not logged in
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    refused = mail_client.get(tampered)
    assert refused.status_code == 400
    assert "Ce lien de désabonnement n’est pas valable" in refused.text
    assert mail_client.submit(tampered).status_code == 400
    forged = mail_client.submit("/notifications/unsubscribe/eyJ1IjoxLCJrIjoiY29tbWVudCJ9.forged")
    assert forged.status_code == 400

    page = mail_client.get(path)
    assert page.status_code == 200
    assert "Nouveaux commentaires sur les idées que je suis" in page.text
    assert notify.delivery_preferences(session, author.id)["comment"] == "immediate"  # opening changes nothing
    done = mail_client.submit(path)
    assert done.status_code == 200
    assert "vous ne recevrez plus ces e-mails" in done.text
    session.expire_all()
    assert notify.delivery_preferences(session, author.id)["comment"] == "none"
    assert notify.delivery_preferences(session, author.id)["status"] == "immediate"  # single-purpose

    before = len(smtp.to("suiveuse@example.org"))
    mail_client.login_as(second)
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Deuxième commentaire"})
    mail_client.run_worker()
    assert len(smtp.to("suiveuse@example.org")) == before
    # Still told in the site.
    session.expire_all()
    notes = session.exec(select(Notification).where(Notification.user_id == author.id)).all()
    assert len(notes) == 2


def test_status_change_and_answer_and_results_reach_followers(mail_client: WebClient, smtp: SmtpSink,
                                                              session: Session) -> None:
    call = make_call(session, phase="results", title="Liège 2030")
    author = make_user(session, email="auteur2@example.org", language="fr")
    idea = make_idea(session, call, author, title="Un parc")
    voter = make_user(session, email="votant@example.org", language="de")
    moderator = make_user(session, role="moderator")
    for person in (author, voter):
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    session.commit()

    with mail_client.db.transaction() as tx:
        stored = tx.get(Idea, idea.id)
        actor = tx.get(User, moderator.id)
        assert stored is not None and actor is not None
        stored.answer_status = "accepted"
        assert notify.idea_status_changed(tx, mail_client.settings, idea=stored, actor=actor,
                                          to_status="rejected", note="Hors du périmètre de la Ville.") == 2
        assert notify.official_answer(tx, mail_client.settings, idea=stored, actor=actor) == 2
        assert notify.results_published(tx, mail_client.settings, call=call, actor=actor) == 2
    mail_client.run_worker()

    subjects = [subject(m) for m in smtp.to("votant@example.org")]
    assert subjects == ["Neuigkeiten zur Idee „Un parc“", "Neuigkeiten zur Idee „Un parc“",
                        "Die Ergebnisse von „Liège 2030“ sind veröffentlicht"]
    first = body_of(smtp.to("votant@example.org")[0])
    assert "ist jetzt: abgelehnt." in first and "Hors du périmètre de la Ville." in first
    french = body_of(smtp.to("auteur2@example.org")[1])
    assert "est désormais\u202f: acceptée." in french


def test_notification_list_counts_and_marks_read(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des bancs")
    follow_service.follow(session, idea_id=idea.id, user_id=author.id)
    commenter = make_user(session, display_name="Lou")
    session.commit()
    client.login_as(commenter)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Oui !"})

    client.login_as(author)
    home = client.get("/").text
    assert '<span class="badge">1</span>' in home
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "Lou a commenté «\u202fDes bancs\u202f»" in page.text
    assert "Nouveau" in page.text
    assert '<span class="badge">' not in client.get("/").text
    session.expire_all()
    assert notify.unread_count(session, author.id) == 0

    client.cookies.clear()
    assert client.get("/notifications", follow_redirects=False).headers["location"].startswith("/account/login")


def test_email_preferences_page(client: WebClient, session: Session) -> None:
    user = make_user(session)
    session.commit()
    client.login_as(user)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert "Réponses à mes commentaires" in page.text
    assert "Contenus masqués après signalements" not in page.text  # a moderators' kind
    response = client.submit("/notifications/preferences", {
        "delivery_comment": "none", "delivery_reply": "immediate", "delivery_status": "none",
        "delivery_results": "daily", "delivery_edited": "weekly", "delivery_support": "immediate",
        "delivery_assistant": "daily", "delivery_ballot": "immediate"})
    assert response.status_code == 303
    session.expire_all()
    assert notify.delivery_preferences(session, user.id) == {
        "comment": "none", "reply": "immediate", "status": "none", "results": "daily", "report": "immediate",
        "edited": "weekly", "support": "immediate", "assistant": "daily", "ballot": "immediate"}


def test_follow_and_unfollow(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="review")  # following works whatever the phase
    idea = make_idea(session, call)
    user = make_user(session, verified=False)  # anyone with an account
    session.commit()
    client.login_as(user)
    assert client.submit(f"/ideas/{idea.id}/follow").status_code == 303
    client.submit(f"/ideas/{idea.id}/follow")
    session.expire_all()
    assert follow_service.is_following(session, idea_id=idea.id, user_id=user.id)
    assert session.get(Idea, idea.id).follower_count == 1 == follow_service.follower_count(session, idea.id)
    assert "Ne plus suivre cette idée" in client.get(f"/ideas/{idea.id}").text
    unfollowed = client.submit(f"/ideas/{idea.id}/unfollow", headers={"Accept": "application/json"})
    assert unfollowed.json() == {"message": "Vous ne suivez plus cette idée.", "following": False,
                                 "follower_count": 0}
    client.submit(f"/ideas/{idea.id}/unfollow")
    session.expire_all()
    assert session.get(Idea, idea.id).follower_count == 0 == follow_service.follower_count(session, idea.id)
    client.cookies.clear()
    assert client.submit(f"/ideas/{idea.id}/follow").headers["location"].startswith("/account/login")


def test_authors_follow_their_new_idea(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="submissions")
    author = make_user(session)
    session.commit()
    with client.db.transaction() as tx:
        stored_call = tx.get(Call, call.id)
        person = tx.get(User, author.id)
        assert stored_call is not None and person is not None
        data = idea_service.IdeaInput(title="Un potager partagé",
                                      body_md="Sur le terrain vague de la rue Saint-Gilles, avec l'école.")
        idea = idea_service.create_idea(tx, client.settings, stored_call, person, submit=True, data=data)
        idea_id = idea.id
    session.expire_all()
    assert follow_service.is_following(session, idea_id=idea_id, user_id=author.id)
    assert session.get(Idea, idea_id).follower_count == 1


def test_opening_the_list_marks_read_only_what_it_showed(client: WebClient, session: Session) -> None:
    reader = make_user(session)
    assert reader.id is not None
    for i in range(55):
        session.add(Notification(user_id=reader.id, kind="comment", subject=f"Idée {i}", link="/"))
    session.commit()
    client.login_as(reader)
    assert client.get("/notifications").status_code == 200
    session.expire_all()
    # The list shows the 50 newest; the 5 older ones were not seen and stay unread.
    assert notify.unread_count(session, reader.id) == 5
    client.submit("/notifications/read")
    session.expire_all()
    assert notify.unread_count(session, reader.id) == 0


def test_a_page_and_its_badge_use_the_request_session_only(client: WebClient, session: Session,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The header's count comes with the request's own session (no template opens one), and
    opening the list marks it read in that same session, a write one (on SQLite: in the write
    turn, queued like any POST, instead of a second transaction racing the writers)."""
    reader = make_user(session)
    assert reader.id is not None
    session.add(Notification(user_id=reader.id, kind="comment", subject="Idée", link="/"))
    session.commit()
    client.login_as(reader)
    opened: list[bool] = []
    open_session = client.db.session

    def counting_session(*, write: bool = False) -> Session:
        opened.append(write)
        return open_session(write=write)

    monkeypatch.setattr(client.db, "session", counting_session)
    assert '<span class="badge">1</span>' in client.get("/").text
    assert opened == [False]
    opened.clear()
    assert "Nouveau" in client.get("/notifications").text
    assert opened == [True]
    session.expire_all()
    assert notify.unread_count(session, reader.id) == 0


def test_followers_who_can_no_longer_see_an_idea_hear_nothing_of_it(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    author, follower = make_user(session), make_user(session)
    idea = make_idea(session, call, author, title="Idée masquée par la modération")
    for person in (author, follower):
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    idea.hidden_at = utcnow()
    idea.answer_status = "under_study"
    session.add(idea)
    session.commit()
    assert notify.official_answer(session, client.settings, idea=idea, actor=None) == 1
    assert notify.idea_status_changed(session, client.settings, idea=idea, actor=None, to_status="published") == 1
    session.commit()
    rows = session.exec(select(Notification)).all()
    assert {n.user_id for n in rows} == {author.id}


def test_news_for_many_followers_reads_their_choices_once_and_keeps_each_one(session: Session,
                                                                              settings: Settings) -> None:
    # Each follower's preferences and the e-mails' signature were read once per person: a comment
    # on an idea with 300 followers took 1.5 s of its request, in SQLite's write turn (issue 14).
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, make_user(session))
    writer = make_user(session)
    followers = [make_user(session) for _ in range(30)]
    weekly, muted, unverified = followers[0], followers[1], make_user(session, verified=False)
    for person in [*followers, unverified, writer]:
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    notify.set_delivery(session, user_id=weekly.id or 0, kind="comment", delivery=EmailDelivery.weekly)
    notify.set_delivery(session, user_id=muted.id or 0, kind="comment", delivery=EmailDelivery.none)
    comment = make_comment(session, idea, writer)
    session.commit()
    with counting(session.get_bind()) as statements:  # type: ignore[arg-type]
        told = notify.comment_posted(session, settings, idea=idea, comment=comment, actor=writer)
    session.commit()
    assert told == 31  # every follower but the writer, the unverified one on the site only
    preferences = [s for s in statements if "FROM notification_preference" in s]
    identity = [s for s in statements if "FROM city_identity" in s]
    assert len(preferences) == 1 and len(identity) <= 1, (len(preferences), len(identity))
    rows = {n.user_id: n for n in session.exec(select(Notification).where(Notification.comment_id == comment.id))}
    assert set(rows) == {p.id for p in [*followers, unverified]}
    assert rows[weekly.id].digest == "weekly" and rows[muted.id].digest is None
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.kind == mail.EMAIL_KIND)).all()
    assert sorted(m.payload["user_id"] for m in mails) == sorted(p.id for p in followers[2:])
    assert {m.payload["notification_id"] for m in mails} == {rows[p.id].id for p in followers[2:]}


def test_news_for_many_digest_readers_queues_each_digest_once(session: Session, settings: Settings) -> None:
    # Each follower who chose a digest made sure of its job again (a lookup of the outbox by
    # its key each): once per cadence does, and each of them is still in their digest.
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, make_user(session))
    writer = make_user(session)
    weekly, daily = [make_user(session) for _ in range(6)], [make_user(session) for _ in range(5)]
    for person in [*weekly, *daily, writer]:
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    for people, cadence in ((weekly, EmailDelivery.weekly), (daily, EmailDelivery.daily)):
        for person in people:
            notify.set_delivery(session, user_id=person.id or 0, kind="comment", delivery=cadence)
    comment = make_comment(session, idea, writer)
    session.commit()
    with counting(session.get_bind()) as statements:  # type: ignore[arg-type]
        notify.comment_posted(session, settings, idea=idea, comment=comment, actor=writer)
    session.commit()
    lookups = [s for s in statements if "outbox_message" in s and "dedupe_key" in s]
    assert len(lookups) <= 3 * 2, lookups  # a lookup, an insert and its row, for each of the two cadences
    jobs = session.exec(select(OutboxMessage).where(OutboxMessage.kind == periods.DIGEST_JOB)).all()
    assert sorted(m.payload["cadence"] for m in jobs) == ["daily", "weekly"]
    rows = session.exec(select(Notification).where(Notification.comment_id == comment.id)).all()
    assert sorted((n.user_id, n.digest) for n in rows) == sorted(
        [(p.id, "weekly") for p in weekly] + [(p.id, "daily") for p in daily])
