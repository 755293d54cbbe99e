"""After an account is deleted, nothing of the person remains but their public contributions,
unsigned (issue 13): no personal field in any table, no photo file of a draft, no identity, no
session, no e-mail waiting; other people's notifications, e-mails and exports say "Ancien membre";
the public pages too; and the public counts do not move. One test, run on SQLite and PostgreSQL."""

import json
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from app.account.models import EmailToken, User, UserIdentity, UserSession
from app.comment.models import Comment
from app.follow import service as follow_service
from app.idea.models import Idea, IdeaPhoto
from app.media.models import MediaFile
from app.outbox.models import OutboxMessage
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import add_photo
from tests.support import SmtpSink, WebClient, body_of, exported_data

PASSWORD = "les chaises de la Batte"
ANNE = "anne.thiry@example.org"
ANNE_NEW = "anne.ailleurs@example.org"
NAME = "Anne Thiry"


def whole_database(session: Session) -> str:
    """Every row of every table, as text."""
    session.expire_all()
    rows: list[Any] = []
    for table in SQLModel.metadata.sorted_tables:
        rows += [dict(r._mapping) for r in session.execute(sa_select(table)).all()]
    return json.dumps(rows, ensure_ascii=False, default=str)


def public_counts(session: Session) -> dict[str, Any]:
    session.expire_all()
    ideas = session.exec(select(Idea).where(Idea.status != "draft").order_by(col(Idea.id))).all()
    return {"ideas": [(i.title, i.comment_count) for i in ideas],
            "finished_call_votes": [(i.title, i.vote_count) for i in ideas if i.title.startswith("Résultat")]}


def test_nothing_of_a_deleted_person_remains_but_their_unsigned_contributions(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    settings = mail_client.settings
    voting = make_call(session, phase="voting")
    finished = make_call(session, phase="results")
    anne = make_user(session, email=ANNE, display_name=NAME, password=PASSWORD)
    bob = make_user(session, email="bob@example.org", display_name="Bob Lambert", password=PASSWORD)
    published = make_idea(session, voting, anne, title="Des bancs place du Marché")
    published_photo = add_photo(session, settings, published, alt="Les bancs")
    published_photo_id, published_media_id = published_photo.id, published_photo.media_id
    published_media = session.get(MediaFile, published_media_id)
    assert published_media is not None
    published_folder = settings.media_dir / published_media.key
    draft = make_idea(session, voting, anne, title="Un potager secret", status="draft")
    draft_media = session.get(MediaFile, add_photo(session, settings, draft, alt="Le potager").media_id)
    assert draft_media is not None
    draft_folder = settings.media_dir / draft_media.key
    draft_media_id = draft_media.id
    bobs = make_idea(session, voting, bob, title="Un marché couvert")
    kept = make_idea(session, finished, bob, title="Résultat: un kiosque")
    follow_service.follow(session, idea_id=bobs.id or 0, user_id=bob.id or 0)
    vote_service.cast_vote(session, idea=bobs, call=voting, user=anne)
    session.add(UserIdentity(user_id=anne.id or 0, provider_key="test", issuer="https://id.example.org",
                             subject="anne-4000", email=ANNE, claims='{"postal_code": "4000"}'))
    session.commit()
    session.add(Vote(idea_id=kept.id, user_id=anne.id, call_id=finished.id))
    kept.vote_count = 1
    session.add(kept)
    session.commit()

    # Anne comments on Bob's idea (Bob is told, on the site and by an e-mail still waiting),
    # asks for a new address (an e-mail waits for it), and is logged in on two browsers.
    mail_client.login_as(anne)
    phone = WebClient(mail_client.app, base_url="http://testserver").login_as(anne)
    assert mail_client.submit(f"/ideas/{bobs.id}/comments", {"body": "Avec des bancs autour ?"}).status_code == 303
    assert mail_client.submit("/account/email", {"new_email": ANNE_NEW, "current_password": PASSWORD}
                              ).status_code == 303
    before = public_counts(session)
    assert NAME in whole_database(session) and ANNE_NEW in whole_database(session)

    assert mail_client.submit("/account/delete", {"password": PASSWORD}).status_code == 303

    # No personal field anywhere: not her name, addresses, identity or the claims kept from it.
    everything = whole_database(session)
    for personal in (NAME, "Anne", ANNE, ANNE_NEW, "anne-4000", "postal_code"):
        assert personal not in everything, personal
    gone = session.get(User, anne.id)
    assert gone is not None and gone.password_hash is None and gone.email_verified_at is None
    assert not session.exec(select(UserIdentity).where(UserIdentity.user_id == anne.id)).all()
    assert not session.exec(select(UserSession).where(UserSession.user_id == anne.id)).all()
    assert not session.exec(select(EmailToken).where(EmailToken.user_id == anne.id)).all()
    assert phone.get("/account", follow_redirects=False).status_code == 303
    # Every photo she sent is gone with its files, the published idea's too (its text stays).
    assert not draft_folder.exists()
    assert session.get(MediaFile, draft_media_id) is None
    assert session.get(MediaFile, published_media_id) is None
    assert not session.exec(select(IdeaPhoto).where(IdeaPhoto.idea_id == published.id)).all()
    assert not published_folder.exists()
    assert mail_client.get(f"/ideas/{published.id}/photos/{published_photo_id}/display").status_code == 404
    # No e-mail of hers waits: cancelled, their address and text blanked.
    waiting = session.exec(select(OutboxMessage).where(col(OutboxMessage.status).in_(["pending", "running"]))).all()
    assert all(m.payload.get("user_id") != anne.id for m in waiting)

    # Public pages: her idea and comment stay, signed "Ancien membre"; the counts are unchanged.
    for idea in (published, bobs):
        page = mail_client.get(f"/ideas/{idea.id}")
        assert page.status_code == 200
        assert "Anne" not in page.text
        assert "ancien membre" in page.text.lower(), idea.title
    assert "Avec des bancs autour ?" in mail_client.get(f"/ideas/{bobs.id}").text
    assert public_counts(session) == before
    assert session.exec(select(Comment).where(col(Comment.author_id).is_(None))).one().idea_id == bobs.id

    # Bob's notification list, his export and the e-mail that was waiting for him say "Ancien membre".
    mail_client.cookies.clear()
    mail_client.login_as(bob)
    listed = mail_client.get("/notifications").text
    assert "Anne" not in listed and "Ancien membre a commenté" in listed
    export = exported_data(mail_client.submit("/account/export").content)
    [told] = export["notifications"]
    assert told["by"] == "Ancien membre"
    mail_client.run_worker()
    assert smtp.to(ANNE) == [] and smtp.to(ANNE_NEW) == []
    [email] = smtp.to("bob@example.org")
    assert "Anne" not in body_of(email) and "Ancien membre a commenté" in body_of(email)
    assert "Anne" not in whole_database(session)
