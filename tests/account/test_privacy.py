"""Personal data: the export of one's data, and account deletion with anonymised contributions."""

import io
import json
import zipfile
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.account.models import Role, User, UserSession
from app.account.sessions import SESSION_COOKIE
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.follow import service as follow_service
from app.idea.models import Idea, IdeaPhoto
from app.media.models import MediaFile
from app.moderation.models import AuditEntry
from app.notify.models import Notification, NotificationPreference
from app.report.models import Report
from app.richtext import render_markdown
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import add_photo
from tests.support import WebClient

PASSWORD = "les chaises de la Batte"
BOB_PASSWORD = "le pont de Fragnée la nuit"


@dataclass
class World:
    anne: User
    bob: User
    call: Call
    anne_idea: Idea
    anne_draft: Idea
    bob_idea: Idea
    bob_draft: Idea
    draft_media_key: str


def comment(session: Session, idea: Idea, author: User, body: str, **fields: object) -> Comment:
    row = Comment(idea_id=idea.id, author_id=author.id, body_md=body, body_html=render_markdown(body), **fields)
    session.add(row)
    session.flush()
    return row


def world(session: Session, client: WebClient) -> World:
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    bob = make_user(session, email="bob.secret@example.org", display_name="Bob Lambert", password=BOB_PASSWORD)
    call = make_call(session, phase="voting")
    anne_idea = make_idea(session, call, anne, title="Des bancs place du Marché")
    anne_draft = make_idea(session, call, anne, title="Mon brouillon de potager", status="draft")
    photo = add_photo(session, client.settings, anne_draft, alt="Le coin du potager")
    media = session.get(MediaFile, photo.media_id)
    assert media is not None
    bob_idea = make_idea(session, call, bob, title="Un marché couvert")
    bob_draft = make_idea(session, call, bob, title="Brouillon confidentiel de Bob", status="draft")

    # Anne votes for Bob's idea and follows it; Bob votes for Anne's.
    vote_service.cast_vote(session, idea=bob_idea, call=call, user=anne)
    vote_service.cast_vote(session, idea=anne_idea, call=call, user=bob)
    follow_service.follow(session, idea_id=bob_idea.id or 0, user_id=anne.id or 0)
    follow_service.follow(session, idea_id=anne_idea.id or 0, user_id=anne.id or 0)
    comment(session, bob_idea, anne, "Bonne idée, avec des bancs autour.")
    comment(session, bob_idea, anne, "Texte que j'ai retiré ensuite.", deleted_at=utcnow())
    bobs = comment(session, anne_idea, bob, "Merci Anne, je soutiens.")
    session.add(Report(target_type="comment", target_id=bobs.id or 0, idea_id=anne_idea.id or 0,
                       reporter_id=anne.id or 0, reason="off_topic", details="Hors sujet selon moi"))
    session.add(Notification(user_id=anne.id or 0, kind="comment", idea_id=anne_idea.id, actor_name=bob.display_name,
                             subject=anne_idea.title, detail="Merci Anne", link=f"/ideas/{anne_idea.id}"))
    session.add(NotificationPreference(user_id=anne.id or 0, kind="comment", delivery="none"))
    session.flush()
    return World(anne, bob, call, anne_idea, anne_draft, bob_idea, bob_draft, media.key)


def exported(content: bytes) -> dict:  # type: ignore[type-arg]
    """The data.json of an export's ZIP."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return json.loads(archive.read("data.json"))  # type: ignore[no-any-return]


# Export -----------------------------------------------------------------------------------------

def test_the_export_holds_my_data_and_nobody_elses_private_data(client: WebClient, session: Session) -> None:
    w = world(session, client)
    client.login_as(w.anne)
    assert 'action="/account/export"' in client.get("/account").text

    response = client.submit("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert ".zip" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    data = exported(response.content)

    assert data["account"]["email"] == "anne@example.org"
    assert data["account"]["display_name"] == "Anne Thiry"
    assert data["account"]["language"] == "fr"
    assert data["account"]["email_verified_at"] is not None
    ideas = {i["title"]: i for i in data["ideas"]}
    assert set(ideas) == {"Des bancs place du Marché", "Mon brouillon de potager"}
    assert ideas["Mon brouillon de potager"]["status"] == "draft"
    assert ideas["Des bancs place du Marché"]["body_markdown"].startswith("Une idée détaillée")
    [photo] = ideas["Mon brouillon de potager"]["photos"]
    assert photo["alt_text"] == "Le coin du potager"
    # The photo link works for its author.
    assert client.get(photo["url"].removeprefix("http://testserver")).status_code == 200
    bodies = {c["body_markdown"] for c in data["comments"]}
    assert bodies == {"Bonne idée, avec des bancs autour.", "Texte que j'ai retiré ensuite."}
    assert [v["idea"]["title"] for v in data["votes"]] == ["Un marché couvert"]
    assert {f["idea"]["title"] for f in data["follows"]} == {"Un marché couvert", "Des bancs place du Marché"}
    [notification] = data["notifications"]
    assert notification["by"] == "Bob Lambert"  # his public name, as shown next to his comment
    [report] = data["reports"]
    assert report["reason"] == "off_topic" and report["details"] == "Hors sujet selon moi"
    assert data["notification_preferences"]["comment"] == {"email": "none"}
    assert data["notification_preferences"]["reply"] == {"email": "immediate"}

    # Nothing private of Bob's: not his address, not his draft, not his comment's text.
    text = json.dumps(data, ensure_ascii=False)
    assert "bob.secret@example.org" not in text
    assert "Brouillon confidentiel de Bob" not in text
    assert "je soutiens" not in text


def test_the_export_needs_a_csrf_token_and_a_login(client: WebClient, session: Session) -> None:
    w = world(session, client)
    assert client.submit("/account/export").status_code == 303  # to the login page
    client.login_as(w.anne)
    response = client.post("/account/export", follow_redirects=False)
    assert response.status_code == 403
    assert "anne@example.org" not in response.text


def test_a_hidden_idea_i_voted_for_is_exported_without_its_title(client: WebClient, session: Session) -> None:
    w = world(session, client)
    w.bob_idea.hidden_at = utcnow()
    session.add(w.bob_idea)
    session.flush()
    data = exported(client.login_as(w.anne).submit("/account/export").content)
    assert [v["idea"] for v in data["votes"]] == [{"id": w.bob_idea.id, "title": None, "url": None}]


# Deletion ---------------------------------------------------------------------------------------

def counters_equal_rows(session: Session) -> None:
    session.expire_all()
    for idea in session.exec(select(Idea)).all():
        votes = len(session.exec(select(Vote).where(Vote.idea_id == idea.id)).all())
        assert idea.vote_count == votes, idea.title
        assert idea.follower_count == follow_service.follower_count(session, idea.id or 0), idea.title


def test_a_wrong_password_deletes_nothing(client: WebClient, session: Session) -> None:
    w = world(session, client)
    client.login_as(w.anne)
    assert client.get("/account/delete").status_code == 200
    response = client.submit("/account/delete", {"password": "pas le bon mot de passe"})
    assert response.status_code == 422
    assert "Ce mot de passe n’est pas correct" in response.text
    session.expire_all()
    anne = session.get(User, w.anne.id)
    assert anne is not None and anne.deleted_at is None and anne.email == "anne@example.org"
    assert session.get(Idea, w.anne_draft.id) is not None
    assert len(session.exec(select(Vote).where(Vote.user_id == w.anne.id)).all()) == 1
    assert client.get("/account").status_code == 200  # still logged in
    # Without the token, nothing either.
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 403
    session.expire_all()
    assert session.get(User, w.anne.id).deleted_at is None  # type: ignore[union-attr]


def test_deleting_my_account(client: WebClient, session: Session) -> None:
    w = world(session, client)
    client.login_as(w.anne)
    other_browser = WebClient(client.app, base_url="http://testserver")
    other_browser.login_as(w.anne)
    stolen_cookie = client.cookies[SESSION_COOKIE]
    anne_id = w.anne.id
    draft_id, bob_draft_id, anne_idea_id, bob_idea_id = w.anne_draft.id, w.bob_draft.id, w.anne_idea.id, w.bob_idea.id
    draft_folder = client.settings.media_dir / w.draft_media_key
    assert draft_folder.exists()

    response = client.submit("/account/delete", {"password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Votre compte est supprimé" in client.get("/").text

    # Every session ended, including a copied cookie and another browser.
    thief = WebClient(client.app, base_url="http://testserver")
    thief.cookies.set(SESSION_COOKIE, stolen_cookie)
    assert thief.get("/account", follow_redirects=False).status_code == 303
    assert other_browser.get("/account", follow_redirects=False).status_code == 303
    assert not session.exec(select(UserSession).where(UserSession.user_id == anne_id)).all()

    # The account is anonymised; logging in with the old address fails.
    session.expire_all()
    anne = session.get(User, anne_id)
    assert anne is not None
    assert anne.email == f"deleted-{anne_id}@invalid"
    assert anne.display_name != "Anne Thiry" and anne.password_hash is None and anne.deleted_at is not None
    login = client.submit("/account/login", {"email": "anne@example.org", "password": PASSWORD})
    assert login.status_code == 422

    # Votes withdrawn and counters equal to rows; follows, notifications, preferences gone.
    assert not session.exec(select(Vote).where(Vote.user_id == anne_id)).all()
    counters_equal_rows(session)
    assert session.get(Idea, bob_idea_id).vote_count == 0  # type: ignore[union-attr]
    assert session.get(Idea, anne_idea_id).vote_count == 1  # type: ignore[union-attr]  # Bob's vote stays
    assert not session.exec(select(Notification).where(Notification.user_id == anne_id)).all()
    assert not session.exec(select(NotificationPreference).where(NotificationPreference.user_id == anne_id)).all()

    # The published idea and the comments stay, without her name.
    page = client.get(f"/ideas/{anne_idea_id}")
    assert page.status_code == 200
    assert "Des bancs place du Marché" in page.text
    assert "Anne Thiry" not in page.text
    assert "ancien membre" in page.text.lower()
    bob_page = client.get(f"/ideas/{bob_idea_id}")
    assert "Bonne idée, avec des bancs autour." in bob_page.text
    assert "Anne Thiry" not in bob_page.text
    assert session.exec(select(Comment).where(col(Comment.author_id) == anne_id)).all() == []

    # The draft is gone, with its photo (row and files).
    assert session.get(Idea, draft_id) is None
    assert not session.exec(select(IdeaPhoto).where(IdeaPhoto.idea_id == draft_id)).all()
    assert not session.exec(select(MediaFile).where(MediaFile.key == w.draft_media_key)).all()
    assert not draft_folder.exists()
    assert session.get(Idea, bob_draft_id) is not None  # other people's drafts untouched

    # The audit log says so.
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "account_deleted")).all()
    assert entry.target_type == "user" and entry.target_id == anne_id

    # The address is free again.
    again = WebClient(client.app, base_url="http://testserver")
    response = again.submit("/account/register", {"email": "anne@example.org", "display_name": "Anne Thiry",
                                                  "password": PASSWORD})
    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.exec(select(User).where(User.email == "anne@example.org")).one().id != anne_id


def test_the_last_administrator_cannot_leave(client: WebClient, session: Session) -> None:
    admin = make_user(session, email="admin@example.org", role=Role.admin, password=PASSWORD)
    client.login_as(admin)
    response = client.submit("/account/delete", {"password": PASSWORD})
    assert response.status_code == 409
    assert "dernier administrateur" in response.text
    session.expire_all()
    assert session.get(User, admin.id).deleted_at is None  # type: ignore[union-attr]

    make_user(session, email="admin2@example.org", role=Role.admin)
    assert client.submit("/account/delete", {"password": PASSWORD}).status_code == 303
    session.expire_all()
    assert session.get(User, admin.id).deleted_at is not None  # type: ignore[union-attr]


def test_votes_of_calls_past_voting_stay_when_a_voter_leaves(client: WebClient, session: Session) -> None:
    voter = make_user(session, password=PASSWORD)
    finished = make_call(session, phase="results")
    running = make_call(session, phase="voting")
    kept = make_idea(session, finished, title="Résultat publié", vote_count=1)
    withdrawn = make_idea(session, running, title="Vote en cours", vote_count=1)
    for idea in (kept, withdrawn):
        session.add(Vote(idea_id=idea.id, user_id=voter.id, call_id=idea.call_id))
    session.commit()
    client.login_as(voter)
    assert client.submit("/account/delete", {"password": PASSWORD}).status_code == 303
    session.expire_all()
    counts = {i.title: i.vote_count for i in session.exec(select(Idea)).all()}
    assert counts == {"Résultat publié": 1, "Vote en cours": 0}
    assert [v.idea_id for v in session.exec(select(Vote)).all()] == [kept.id]
