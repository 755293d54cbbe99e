"""Hidden, draft and rejected content never leaks, whichever door an attacker knocks on."""

from sqlalchemy import text
from sqlmodel import Session

from app.idea.models import Idea
from tests.factories import make_idea
from tests.security.helpers import make_world, routes_with_params
from tests.support import WebClient


def test_reply_form_never_quotes_a_hidden_comment(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    page = client.get(f"/ideas/{world.idea.id}/comments/new", params={"reply_to": world.hidden_comment.id})
    assert "SECRET-MASQUE" not in page.text
    # Moderators still see what they are asked to review.
    client.login_as(world.moderator)
    page = client.get(f"/ideas/{world.idea.id}/comments/new", params={"reply_to": world.hidden_comment.id})
    assert page.status_code == 200 and "SECRET-MASQUE" in page.text


def test_refused_reply_never_quotes_a_comment_of_another_idea(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    # An empty body is refused: the form comes back, quoting what it replies to. The parent
    # named here belongs to a hidden idea the citizen may not read.
    response = client.submit(f"/ideas/{world.idea.id}/comments",
                             {"body": "", "parent_id": str(world.private_comment.id)})
    assert response.status_code == 422
    assert "SECRET-PRIVE" not in response.text
    response = client.submit(f"/ideas/{world.idea.id}/comments",
                             {"body": "", "parent_id": str(world.hidden_comment.id)})
    assert response.status_code == 422
    assert "SECRET-MASQUE" not in response.text


SECRETS = ("Un brouillon secret", "Texte secret", "SECRET-PRIVE", "Une idée masquée", "SECRET-MASQUE")


def _private_targets(world) -> list[dict[str, int]]:  # type: ignore[no-untyped-def]
    return [{"idea_id": world.draft.id, "comment_id": world.private_comment.id},
            {"idea_id": world.hidden.id, "comment_id": world.hidden_comment.id}]


def test_no_public_page_or_api_shows_private_content(client: WebClient, session: Session) -> None:
    """Every GET route of the app, with the ids of a draft, a hidden idea and hidden comments,
    as an anonymous visitor and as another citizen: the secret words never appear."""
    world = make_world(session)
    paths = []
    for route in routes_with_params(client.app):
        if "GET" not in route.methods or route.path.startswith(("/moderation", "/admin")):
            continue
        for target in _private_targets(world):
            values = {"slug": world.call.slug, "variant": "display", "photo_id": 1, "token": "x", **target}
            if any(p not in values for p in route.path_params):
                continue
            path = route.path
            for name in route.path_params:
                path = path.replace("{" + name + "}", str(values[name]))
            paths.append(path)
    paths += [f"/calls/{world.call.slug}/ideas.csv", f"/api/calls/{world.call.slug}/ideas",
              f"/calls/{world.call.slug}?status=unanswered&sort=random", "/api/openapi.json"]
    assert any("/ideas/" in p for p in paths) and any("/comments/" in p for p in paths)
    for who in (None, world.citizen):
        client.cookies.clear()
        if who is not None:
            client.login_as(who)
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code < 500, path
            leaked = [s for s in SECRETS if s in response.text]
            assert not leaked, f"{path} shows {leaked} to {who.display_name if who else 'a visitor'}"


def test_nobody_acts_on_an_idea_they_cannot_see(client: WebClient, session: Session) -> None:
    """Vote, follow, comment, report, edit, withdraw: by changing the id in the URL, a citizen
    reaches a draft or a hidden idea of someone else. Each is refused and nothing is written."""
    world = make_world(session)
    client.login_as(world.citizen)
    for idea in (world.draft, world.hidden):
        for path, data in ((f"/ideas/{idea.id}/vote", {}), (f"/ideas/{idea.id}/follow", {}),
                           (f"/ideas/{idea.id}/comments", {"body": "Je passe par là"}),
                           (f"/ideas/{idea.id}/report", {"reason": "spam"}),
                           (f"/ideas/{idea.id}/edit", {"title": "Titre changé par un tiers"}),
                           (f"/ideas/{idea.id}/withdraw", {"confirm": "yes"}), (f"/ideas/{idea.id}/submit", {})):
            for headers in ({}, {"Accept": "application/json"}):
                response = client.submit(path, data, headers=headers)
                assert response.status_code == 404, (path, response.status_code)
    response = client.submit(f"/comments/{world.private_comment.id}/report", {"reason": "spam"})
    assert response.status_code == 404
    session.expire_all()
    for table in ("vote", "report", "follow"):
        assert session.exec(text(f"SELECT COUNT(*) FROM {table} WHERE user_id = :u" if table != "report"
                                 else "SELECT COUNT(*) FROM report WHERE reporter_id = :u"),
                            params={"u": world.citizen.id}).one()[0] == 0
    assert session.exec(text("SELECT COUNT(*) FROM comment WHERE author_id = :u"),
                        params={"u": world.citizen.id}).one()[0] == 0
    assert session.get(Idea, world.draft.id).title == "Un brouillon secret"  # type: ignore[union-attr]


def test_a_merged_idea_never_names_the_hidden_idea_it_joined(client: WebClient, session: Session) -> None:
    world = make_world(session)
    source = make_idea(session, world.call, world.victim, title="Doublon fusionné", status="merged",
                       merged_into_id=world.hidden.id)
    client.login_as(world.citizen)
    page = client.get(f"/ideas/{source.id}", follow_redirects=False)
    assert page.status_code == 200
    assert "Une idée masquée" not in page.text and f"/ideas/{world.hidden.id}" not in page.text
    client.login_as(world.moderator)
    assert "Une idée masquée" in client.get(f"/ideas/{source.id}").text
