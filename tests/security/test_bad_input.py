"""Bad input never answers 500: every route of the app, read from the router itself, gets
garbage in each path, query and form parameter, from a citizen and from a moderator."""

import logging
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from app.comment.models import Comment
from app.main import create_app
from app.settings import Settings
from tests.security.helpers import World, make_world, routes_with_params
from tests.support import WebClient

GARBAGE = ["", "-1", "abc", "99999999999999999999", "\x00", "un texte assez long \x00 pour passer",
           "é" * 300, "<script>alert(1)</script>",
           "2026-13-45T25:61"]
PATH_GARBAGE = ["abc", "-1", "99999999999999999999", "-99999999999999999999", "9223372036854775808", "%00"]
# Logging out would end the session the walk relies on; it has its own tests.
SKIPPED = {"/account/logout"}


@pytest.fixture
def tolerant_client(settings: Settings) -> Iterator[WebClient]:
    """A client that gets the 500 page like a browser would, instead of the exception."""
    with WebClient(create_app(settings), base_url="http://testserver", raise_server_exceptions=False) as web:
        yield web


def _valid_path_values(world: World) -> dict[str, object]:
    return {"idea_id": world.idea.id, "comment_id": world.comment.id, "call_id": world.call.id,
            "category_id": world.category.id, "district_id": world.district.id, "user_id": world.victim.id,
            "photo_id": 1, "slug": world.call.slug, "variant": "display", "token": "x"}


@pytest.mark.parametrize("role", ["citizen", "moderator"])
def test_garbage_in_every_parameter_never_answers_500(tolerant_client: WebClient, session: Session,
                                                      role: str, caplog: pytest.LogCaptureFixture) -> None:
    client = tolerant_client
    with client.db.transaction() as s:
        world = make_world(s)
        user = world.citizen if role == "citizen" else world.moderator
        valid = _valid_path_values(world)
        s.expunge_all()
    failures: list[str] = []
    routes = [r for r in routes_with_params(client.app) if r.path not in SKIPPED and r.methods & {"GET", "POST"}]
    assert len(routes) > 60

    def send(method: str, path: str, params: list[str], value: str) -> None:
        if method == "GET":
            response = client.get(path, params=dict.fromkeys(params, value), follow_redirects=False)
        else:
            response = client.submit(path, dict.fromkeys(params, value))
        if response.status_code >= 500:
            failures.append(f"{method} {path} {value[:30]!r} -> {response.status_code}")

    with caplog.at_level(logging.CRITICAL, logger="app.errors"):
        for route in routes:
            client.cookies.clear()
            client.login_as(user)
            for method in sorted(route.methods & {"GET", "POST"}):
                params = route.query_params + (route.form_params if method == "POST" else [])
                base = route.path
                for name in route.path_params:
                    base = base.replace("{" + name + "}", str(valid[name]))
                for value in GARBAGE:
                    send(method, base, params, value)
                for name in route.path_params:
                    for value in PATH_GARBAGE:
                        path = route.path.replace("{" + name + "}", value)
                        for other in route.path_params:
                            path = path.replace("{" + other + "}", str(valid[other]))
                        send(method, path, [], "")
        # Numbers too large for a database integer, in the places that parse them by hand.
        send("GET", f"/ideas/{world.idea.id}/comments/new", ["reply_to"], "99999999999999999999")
        client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Une réponse", "parent_id": "9" * 20})
    assert not failures, "\n".join(failures)


def test_a_huge_id_in_the_path_is_a_404(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    for path in ("/ideas/99999999999999999999", "/api/ideas/9223372036854775808", "/comments/99999999999999999999/edit",
                 "/ideas/1/photos/99999999999999999999/display"):
        assert client.get(path).status_code == 404, path
    assert client.submit("/ideas/99999999999999999999/vote").status_code == 404
    # What is not a number at all stays a malformed request.
    assert client.get("/ideas/abc").status_code == 422


def test_a_reply_to_a_huge_comment_number_is_refused_cleanly(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    page = client.get(f"/ideas/{world.idea.id}/comments/new", params={"reply_to": "9" * 20})
    assert page.status_code == 200
    response = client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Une réponse", "parent_id": "9" * 20})
    assert response.status_code == 404  # like any comment that does not exist
    assert session.exec(select(Comment).where(Comment.author_id == world.citizen.id)).first() is None


def test_a_nul_character_is_refused_and_nothing_is_written(client: WebClient, session: Session) -> None:
    """PostgreSQL cannot store a NUL character: it is refused up front, on every database."""
    world = make_world(session)
    client.login_as(world.citizen)
    response = client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Bonjour\x00 tout le monde"})
    assert response.status_code == 422
    assert "ne sont pas valides" in response.text  # said in the visitor's language
    assert session.exec(select(Comment).where(Comment.author_id == world.citizen.id)).first() is None
    assert client.get("/calls/appel%00securite").status_code == 422
    assert client.get("/api/calls/appel-securite/ideas", params={"status": "a\x00"}).json()["error"]
