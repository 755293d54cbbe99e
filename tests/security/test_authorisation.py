"""Authorisation: objects are acted on only by whom the rules allow, and every moderator
action leaves a trace."""

from sqlmodel import Session, select

from app.account.models import Role
from app.idea.models import Idea
from app.moderation.models import ModeratorAssignment
from tests.factories import make_call, make_category, make_user
from tests.security.helpers import make_world, routes_with_params
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


def test_changing_an_id_in_the_url_reaches_nothing_of_someone_else(client: WebClient, session: Session) -> None:
    world = make_world(session)
    other_call = make_call(session, phase="submissions", slug="autre-appel")
    foreign_category = make_category(session, other_call)
    client.login_as(world.citizen)
    # Someone else's comment: neither edited nor deleted.
    assert client.get(f"/comments/{world.comment.id}/edit").status_code == 403
    assert client.submit(f"/comments/{world.comment.id}/edit", {"body": "Réécrit par un tiers"}).status_code == 403
    assert client.submit(f"/comments/{world.comment.id}/delete").status_code == 403
    session.refresh(world.comment)
    assert world.comment.body_md == "Un commentaire visible" and world.comment.deleted_at is None
    # A theme of another call is not a theme of this one.
    response = client.submit(f"/calls/{other_call.slug}/ideas/new", {
        "title": "Une idée bien rangée", "body_md": "Une description assez longue pour être acceptée.",
        "category_id": str(world.category.id)})
    assert response.status_code == 422
    assert session.exec(select(Idea).where(Idea.author_id == world.citizen.id)).first() is None
    # Someone else's notifications and preferences are never reachable: there is no id to change.
    assert not [r for r in routes_with_params(client.app) if r.path.startswith("/notifications")
                and any(p in ("user_id", "notification_id") for p in r.path_params)]
    # An administrator's theme edit through another call's address finds nothing.
    client.login_as(world.admin)
    response = client.submit(f"/admin/calls/{world.call.id}/categories/{foreign_category.id}",
                             {"name": "Renommé", "delete": "1"})
    assert response.status_code == 404
    session.refresh(foreign_category)
    assert foreign_category.name != "Renommé"


def test_only_moderators_of_a_call_publish_its_results(client: WebClient, session: Session) -> None:
    """Once moderators are assigned to a call, another moderator cannot publish its results
    (they cannot select its winners either)."""
    world = make_world(session, phase="review")
    colleague = make_user(session, role=Role.moderator)
    world.idea.winner = world.idea.shortlisted = True
    session.add(world.idea)
    session.add(ModeratorAssignment(call_id=world.call.id, user_id=colleague.id))
    session.commit()
    client.login_as(world.moderator)
    assert client.submit(f"/moderation/calls/{world.call.id}/publish-results", {"confirm": "yes"}).status_code == 403
    session.refresh(world.call)
    assert world.call.phase_override is None
    client.login_as(colleague)
    assert client.submit(f"/moderation/calls/{world.call.id}/publish-results", {"confirm": "yes"}).status_code == 303
    session.refresh(world.call)
    assert world.call.phase_override == "results"
