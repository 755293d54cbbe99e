"""Stored copies of content (notifications, queued e-mails, exports, counters) follow what the
viewer may see now, not what they could see when the copy was made (issue 10, finding 1).

Counting rule: `comment_count` counts the comments the public can read, so neither deleted nor
hidden ones; the idea page's heading, its card, the API and the CSV all read that one column.
"""

import csv
import io
import json

from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.comment.models import Comment
from app.follow import service as follow_service
from app.idea.models import Idea
from app.notify.models import NotificationKind
from app.outbox.models import OutboxMessage
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of, exported_data


def as_(client: WebClient, user: object) -> None:
    """Another person at the keyboard: a fresh cookie jar (no flash message left over)."""
    assert isinstance(user, User)
    client.cookies.clear()
    client.login_as(user)


def _arrange(session: Session) -> dict[str, object]:
    call = make_call(session, phase="voting")
    author = make_user(session, display_name="Autrice Inès")
    alice = make_user(session, display_name="Alice", email="alice@example.org")
    bruno = make_user(session, display_name="Bruno Commentateur", email="bruno@example.org")
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice Maud")
    idea = make_idea(session, call, author, title="Un kiosque au parc d’Avroy")
    session.commit()
    return {"call": call, "alice": alice, "bruno": bruno, "moderator": moderator, "idea": idea}


def test_a_notification_about_an_idea_hidden_since_shows_neither_its_title_nor_its_commenter(
        client: WebClient, session: Session) -> None:
    w = _arrange(session)
    idea = w["idea"]
    assert isinstance(idea, Idea)
    as_(client, w["alice"])
    assert client.submit(f"/ideas/{idea.id}/vote").status_code == 303
    assert client.submit(f"/ideas/{idea.id}/follow").status_code == 303
    as_(client, w["bruno"])
    assert client.submit(f"/ideas/{idea.id}/comments", {"body": "Excellente idée"}).status_code == 303

    as_(client, w["alice"])
    before = client.get("/notifications").text
    assert "Bruno Commentateur a commenté «\u202fUn kiosque au parc d’Avroy\u202f»" in before

    as_(client, w["moderator"])
    assert client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Propos injurieux"}).status_code == 303

    as_(client, w["alice"])
    after = client.get("/notifications")
    assert after.status_code == 200
    assert "Un kiosque au parc d’Avroy" not in after.text
    assert "Bruno Commentateur" not in after.text
    assert f'href="/ideas/{idea.id}' not in after.text
    assert "n’est plus disponible" in after.text
    # The idea's author still sees it, so their notifications keep it.
    # Restored, the idea and its news come back for Alice.
    as_(client, w["moderator"])
    assert client.submit(f"/moderation/ideas/{idea.id}/restore", {"reason": "Après examen"}).status_code == 303
    as_(client, w["alice"])
    assert "Bruno Commentateur a commenté «\u202fUn kiosque au parc d’Avroy\u202f»" in client.get("/notifications").text

    # Her data export carries no more than the list shows.
    as_(client, w["moderator"])
    client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Propos injurieux"})
    as_(client, w["alice"])
    export = client.submit("/account/export")
    assert export.status_code == 200
    data = exported_data(export.content)
    assert data["notifications"], data
    assert "Un kiosque" not in json.dumps(data["notifications"], ensure_ascii=False)
    assert "Bruno" not in json.dumps(data["notifications"], ensure_ascii=False)


def test_a_queued_email_about_an_idea_hidden_before_sending_is_cancelled(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = _arrange(session)
    idea = w["idea"]
    assert isinstance(idea, Idea)
    follow_service.follow(session, idea_id=idea.id, user_id=w["alice"].id)  # type: ignore[attr-defined]
    session.commit()
    as_(mail_client, w["bruno"])
    assert mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"}).status_code == 303
    as_(mail_client, w["moderator"])
    assert mail_client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Doublon injurieux"}).status_code == 303

    mail_client.run_worker()
    for message in smtp.to("alice@example.org"):
        assert "Un kiosque" not in body_of(message) and "Un kiosque" not in str(message["Subject"])
    assert smtp.to("alice@example.org") == []
    session.expire_all()
    rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    cancelled = [r for r in rows if r.status == "cancelled"]
    assert cancelled, [(r.status, r.payload.get("subject")) for r in rows]
    for row in cancelled:
        assert "alice@example.org" not in json.dumps(row.payload)
        assert "Un kiosque" not in json.dumps(row.payload, ensure_ascii=False)


def test_a_queued_email_about_a_comment_hidden_before_sending_is_cancelled(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    w = _arrange(session)
    idea = w["idea"]
    assert isinstance(idea, Idea)
    follow_service.follow(session, idea_id=idea.id, user_id=w["alice"].id)  # type: ignore[attr-defined]
    session.commit()
    as_(mail_client, w["bruno"])
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Propos injurieux"})
    comment = session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()
    as_(mail_client, w["moderator"])
    assert mail_client.submit(f"/moderation/comments/{comment.id}/hide", {"reason": "Injure"}).status_code == 303

    mail_client.run_worker()
    assert smtp.to("alice@example.org") == []


def test_an_email_switched_off_after_it_was_queued_is_not_sent(mail_client: WebClient, smtp: SmtpSink,
                                                               session: Session) -> None:
    w = _arrange(session)
    idea = w["idea"]
    assert isinstance(idea, Idea)
    follow_service.follow(session, idea_id=idea.id, user_id=w["alice"].id)  # type: ignore[attr-defined]
    session.commit()
    as_(mail_client, w["bruno"])
    mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Bonne idée"})
    as_(mail_client, w["alice"])
    form = {f"delivery_{kind}": "immediate" for kind in NotificationKind}  # every kind the form asks
    assert mail_client.submit("/notifications/preferences", {**form, "delivery_comment": "none"}).status_code == 303

    mail_client.run_worker()
    assert smtp.to("alice@example.org") == []


def _csv_comment_count(client: WebClient, slug: str, idea_id: int) -> int:
    text = client.get(f"/calls/{slug}/ideas.csv").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if r["id"] == str(idea_id))
    return int(row["comments"])


def _public_counts(client: WebClient, slug: str, idea_id: int) -> tuple[int, int, int, str]:
    client.cookies.clear()
    api = client.get(f"/api/ideas/{idea_id}").json()["comment_count"]
    listed = next(i for i in client.get(f"/api/calls/{slug}/ideas").json()["items"] if i["id"] == idea_id)
    page = client.get(f"/ideas/{idea_id}").text
    return api, listed["comment_count"], _csv_comment_count(client, slug, idea_id), page


def test_comment_count_is_what_the_public_can_read_in_the_page_the_api_and_the_csv(
        client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=2)
    idea = make_idea(session, call, title="Des fontaines à eau")
    writers = [make_user(session) for _ in range(3)]
    moderator = make_user(session, role=Role.moderator)
    reporters = [make_user(session) for _ in range(2)]
    session.commit()
    for n, writer in enumerate(writers):
        as_(client, writer)
        assert client.submit(f"/ideas/{idea.id}/comments", {"body": f"Commentaire numéro {n}"}).status_code == 303
    comments = session.exec(select(Comment).where(Comment.idea_id == idea.id).order_by(col(Comment.id))).all()
    assert _public_counts(client, call.slug, idea.id)[:3] == (3, 3, 3)
    assert "3 commentaires" in _public_counts(client, call.slug, idea.id)[3]

    # Hidden by a moderator: the page shows a placeholder, and no count includes it.
    as_(client, moderator)
    assert client.submit(f"/moderation/comments/{comments[0].id}/hide", {"reason": "Injure"}).status_code == 303
    api, listed, in_csv, page = _public_counts(client, call.slug, idea.id)
    assert (api, listed, in_csv) == (2, 2, 2)
    assert "2 commentaires" in page and "Commentaire numéro 0" not in page

    # Hidden automatically by reports: the same.
    for reporter in reporters:
        as_(client, reporter)
        assert client.submit(f"/comments/{comments[1].id}/report", {"reason": "insult"}).status_code == 303
    api, listed, in_csv, page = _public_counts(client, call.slug, idea.id)
    assert (api, listed, in_csv) == (1, 1, 1)
    assert "1 commentaire" in page

    # Restored: counted again; hiding or restoring twice changes nothing more.
    as_(client, moderator)
    for comment in comments[:2]:
        assert client.submit(f"/moderation/comments/{comment.id}/restore", {"reason": "Après examen"}).status_code \
            == 303
        client.submit(f"/moderation/comments/{comment.id}/restore", {"reason": "Encore"})
    assert _public_counts(client, call.slug, idea.id)[:3] == (3, 3, 3)
    session.expire_all()
    stored = session.get(Idea, idea.id)
    assert stored is not None and stored.comment_count == 3


def test_a_comment_held_as_spam_is_not_counted_until_a_moderator_restores_it(client: WebClient,
                                                                             session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    newcomer = make_user(session)  # created now: a new account
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_(client, newcomer)
    assert client.submit(f"/ideas/{idea.id}/comments",
                         {"body": "Voyez https://promo.example.com"}).status_code == 303
    comment = session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()
    assert comment.hidden_at is not None
    assert _public_counts(client, call.slug, idea.id)[:3] == (0, 0, 0)
    as_(client, moderator)
    client.submit(f"/moderation/comments/{comment.id}/restore", {"reason": "Lien utile"})
    assert _public_counts(client, call.slug, idea.id)[:3] == (1, 1, 1)


def test_a_ban_that_hides_content_takes_its_comments_out_of_the_counts(client: WebClient,
                                                                        session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    troll = make_user(session)
    other = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    for person in (troll, other):
        as_(client, person)
        client.submit(f"/ideas/{idea.id}/comments", {"body": "Un avis sur la question"})
    as_(client, moderator)
    assert client.submit(f"/moderation/users/{troll.id}/ban",
                         {"reason": "Insultes répétées", "confirm": "yes", "hide_content": "1"}).status_code == 303
    assert _public_counts(client, call.slug, idea.id)[:3] == (1, 1, 1)


def test_the_public_dialogue_figures_leave_hidden_comments_out(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    city = make_user(session, role=Role.moderator)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    client.login_as(city)
    for text in ("Réponse de la Ville", "Précision de la Ville"):
        client.submit(f"/ideas/{idea.id}/comments", {"body": text})
    first = session.exec(select(Comment).where(Comment.idea_id == idea.id).order_by(col(Comment.id))).first()
    assert first is not None
    as_(client, moderator)
    assert client.submit(f"/moderation/comments/{first.id}/hide", {"reason": "Erreur"}).status_code == 303
    client.cookies.clear()
    page = client.get(f"/calls/{call.slug}").text
    assert "Commentaires de la Ville</th><td>1</td>" in page
