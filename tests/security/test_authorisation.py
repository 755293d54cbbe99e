"""Authorisation: objects are acted on only by whom the rules allow, and every moderator
action leaves a trace."""

from sqlmodel import Session

from tests.security.helpers import make_world
from tests.support import WebClient


def test_a_moderator_cannot_erase_a_comment_without_a_trace(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.moderator)
    page = client.get(f"/ideas/{world.idea.id}").text
    assert f"/comments/{world.comment.id}/delete" not in page
    assert client.submit(f"/comments/{world.comment.id}/delete").status_code == 403
    session.refresh(world.comment)
    assert world.comment.deleted_at is None and world.comment.body_md == "Un commentaire visible"
    # Hiding, with a reason, is the moderator's way; it is in the audit log.
    response = client.submit(f"/moderation/comments/{world.comment.id}/hide", {"reason": "Propos injurieux"})
    assert response.status_code == 303
    session.refresh(world.comment)
    assert world.comment.hidden_at is not None and world.comment.body_md == "Un commentaire visible"
    # The author may still delete their own words.
    client.login_as(world.victim)
    assert client.submit(f"/comments/{world.comment.id}/delete").status_code == 303
