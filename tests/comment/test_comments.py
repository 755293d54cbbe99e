"""Comments: threads, Markdown made safe, the edit window, deletion, phases, the idea page."""

from datetime import timedelta

from sqlmodel import Session, select

from app.clock import utcnow
from app.comment import service as comment_service
from app.comment.models import Comment
from app.follow import service as follow_service
from app.notify.models import Notification
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def comments_of(session: Session, idea_id: int) -> list[Comment]:
    session.expire_all()
    return list(session.exec(select(Comment).where(Comment.idea_id == idea_id).order_by(Comment.id)).all())


def test_threads_keep_two_levels_and_tell_the_right_people(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session, display_name="Autrice Idée")
    idea = make_idea(session, call, author)
    follow_service.follow(session, idea_id=idea.id, user_id=author.id)
    alice, bob, carol = (make_user(session, display_name=n) for n in ("Alice", "Bob", "Carol"))
    session.commit()

    client.login_as(alice)
    response = client.submit(f"/ideas/{idea.id}/comments", {"body": "Très **bonne** idée !"})
    assert response.status_code == 303
    top = comments_of(session, idea.id)[0]
    assert response.headers["location"] == f"/ideas/{idea.id}#comment-{top.id}"

    client.login_as(bob)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Je suis d'accord.", "parent_id": str(top.id)})
    reply = comments_of(session, idea.id)[1]
    client.login_as(carol)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Moi aussi, Bob.", "parent_id": str(reply.id)})
    deeper = comments_of(session, idea.id)[2]

    assert (reply.parent_id, reply.reply_to_id) == (top.id, top.id)
    # A reply to a reply joins the same thread and remembers whom it answers.
    assert (deeper.parent_id, deeper.reply_to_id) == (top.id, reply.id)
    assert "<strong>bonne</strong>" in top.body_html
    session.refresh(idea)
    assert idea.comment_count == 3 == comment_service.count_rows(session, idea.id)
    # Commenting is not following (replies reach her anyway, as replies).
    assert not follow_service.is_following(session, idea_id=idea.id, user_id=carol.id)

    kinds = {(n.user_id, n.kind) for n in session.exec(select(Notification)).all()}
    assert (alice.id, "reply") in kinds  # Bob answered Alice
    assert (bob.id, "reply") in kinds  # Carol answered Bob
    assert (author.id, "comment") in kinds
    assert (carol.id, "comment") not in kinds and (carol.id, "reply") not in kinds  # never one's own action

    page = client.get(f"/ideas/{idea.id}")
    assert page.status_code == 200
    assert 'id="comments"' in page.text
    assert "en réponse à Bob" in page.text
    assert "3 commentaires" in page.text


def test_markdown_is_sanitised(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    user = make_user(session)
    session.commit()
    client.login_as(user)
    payload = '<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>'
    client.submit(f"/ideas/{idea.id}/comments", {"body": payload})
    comment = comments_of(session, idea.id)[0]
    for bad in ("<script", 'href="javascript:', "<img"):
        assert bad not in comment.body_html
    page = client.get(f"/ideas/{idea.id}")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_empty_comment_is_refused_with_a_message(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    user = make_user(session)
    session.commit()
    client.login_as(user)
    response = client.submit(f"/ideas/{idea.id}/comments", {"body": "  "})
    assert response.status_code == 422
    assert "Veuillez écrire votre commentaire" in response.text
    assert comments_of(session, idea.id) == []


def test_author_edits_within_fifteen_minutes_only(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    author, other = make_user(session), make_user(session)
    session.commit()
    client.login_as(author)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Premier jet"})
    comment = comments_of(session, idea.id)[0]

    assert client.get(f"/comments/{comment.id}/edit").status_code == 200
    assert client.submit(f"/comments/{comment.id}/edit", {"body": "Version *corrigée*"}).status_code == 303
    comment = comments_of(session, idea.id)[0]
    assert comment.body_md == "Version *corrigée*" and comment.edited_at is not None

    client.login_as(other)
    assert client.submit(f"/comments/{comment.id}/edit", {"body": "Piraté"}).status_code == 403

    comment.created_at = utcnow() - timedelta(minutes=16)
    session.add(comment)
    session.commit()
    client.login_as(author)
    late = client.submit(f"/comments/{comment.id}/edit", {"body": "Trop tard"})
    assert late.status_code == 303
    assert client.get(late.headers["location"]).text.count("les 15 minutes sont écoulées") == 1
    assert comments_of(session, idea.id)[0].body_md == "Version *corrigée*"


def test_deleted_comment_keeps_its_place_in_the_thread(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    author, replier, stranger = make_user(session), make_user(session), make_user(session)
    session.commit()
    client.login_as(author)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Texte à supprimer"})
    top = comments_of(session, idea.id)[0]
    client.login_as(replier)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Une réponse", "parent_id": str(top.id)})

    client.login_as(stranger)
    assert client.submit(f"/comments/{top.id}/delete").status_code == 403
    client.login_as(author)
    assert client.submit(f"/comments/{top.id}/delete").status_code == 303
    top = comments_of(session, idea.id)[0]
    assert top.deleted_at is not None and top.body_md == "" and top.body_html == ""
    session.refresh(idea)
    assert idea.comment_count == 1 == comment_service.count_rows(session, idea.id)
    page = client.get(f"/ideas/{idea.id}").text
    assert "Commentaire supprimé" in page
    assert "Texte à supprimer" not in page
    assert "Une réponse" in page
    # Deleting twice changes nothing.
    client.submit(f"/comments/{top.id}/delete")
    session.refresh(idea)
    assert idea.comment_count == 1


def test_comments_close_after_voting_but_stay_visible(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    user = make_user(session)
    session.commit()
    client.login_as(user)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Avant la clôture"})
    call.review_start = utcnow() - timedelta(minutes=1)
    session.add(call)
    session.commit()

    refused = client.submit(f"/ideas/{idea.id}/comments", {"body": "Après la clôture"},
                            headers={"Accept": "application/json"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "Les commentaires sont clos pour cet appel."
    page = client.get(f"/ideas/{idea.id}").text
    assert "Avant la clôture" in page
    assert "Les commentaires sont clos pour cet appel." in page
    assert f'action="/ideas/{idea.id}/comments"' not in page
    assert len(comments_of(session, idea.id)) == 1


def test_unverified_and_anonymous_people_cannot_comment(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    unverified = make_user(session, verified=False)
    session.commit()
    anonymous = client.submit(f"/ideas/{idea.id}/comments", {"body": "Anonyme"})
    assert anonymous.headers["location"].startswith("/account/login")
    client.login_as(unverified)
    assert client.submit(f"/ideas/{idea.id}/comments", {"body": "Pas vérifié"}).status_code == 403
    assert comments_of(session, idea.id) == []


def test_idea_page_shows_the_vote_panel_and_votes_left(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    assert "Connectez-vous pour soutenir cette idée" in client.get(f"/ideas/{idea.id}").text
    client.login_as(voter)
    page = client.get(f"/ideas/{idea.id}").text
    assert "Soutenir cette idée" in page
    assert "Il vous reste 3 soutiens dans cet appel." in page
    client.submit(f"/ideas/{idea.id}/vote")
    page = client.get(f"/ideas/{idea.id}").text
    assert "Retirer mon soutien" in page
    assert "Il vous reste 2 soutiens dans cet appel." in page
    assert 'aria-live="polite"' in page
    listing = client.get(f"/calls/{call.slug}").text
    assert "Vous la soutenez" in listing


def test_script_gets_the_new_comment_to_bring_the_page_up_to_date(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    user = make_user(session, display_name="Zoé")
    session.commit()
    client.login_as(user)
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Ajouté *sans* recharger"},
                           headers={"Accept": "application/json", "X-Requested-With": "fetch",
                                    "X-CSRF-Token": client.csrf()})
    assert response.status_code == 201
    comment = comments_of(session, idea.id)[0]
    assert response.json() == {"id": comment.id, "link": f"/ideas/{idea.id}#comment-{comment.id}",
                               "message": "Votre commentaire est publié."}
    page = client.get(f"/ideas/{idea.id}").text
    assert '<script src="/static/js/inplace.js" defer></script>' in page
