"""Addresses are built from route names: every route has a unique `domain:verb` name, templates
and Python ask for paths by name, and no template writes a path of the site by hand."""

import re
from collections import Counter

import pytest
from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from sqlmodel import select
from starlette.routing import NoMatchFound

from app import demo, links
from app.db import Database
from app.main import ROUTERS
from app.notify.models import Notification
from app.settings import Settings
from app.web import TEMPLATES_DIR, env
from tests.support import WebClient

NAME = re.compile(r"^[a-z]+:[a-z_]+$")
# A path of the site written into a template: only the static files may be.
HAND_WRITTEN = re.compile(r"""\b(?:href|action|src|formaction|poster)=["']/(?!static/)""")


def test_every_route_has_a_unique_domain_verb_name(client: WebClient) -> None:
    names = [route.name for route in iter_route_contexts(client.app.routes)]
    assert len(names) > 90
    assert [name for name, count in Counter(names).items() if count > 1] == []
    # FastAPI's own schema route and the static files keep their framework names.
    assert [n for n in names if not NAME.match(n or "") and n not in ("openapi", "static")] == []


def test_no_template_writes_a_path_of_the_site_by_hand() -> None:
    found = [f"{path.relative_to(TEMPLATES_DIR)}:{number}: {line.strip()}"
             for path in sorted(TEMPLATES_DIR.rglob("*.html"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if HAND_WRITTEN.search(line)]
    assert found == []


def test_paths_come_from_the_route_names(client: WebClient) -> None:
    assert links.path("call:list") == "/calls"
    assert links.path("idea:detail", idea_id=3) == "/ideas/3"
    assert links.idea_path(3, "vote") == "/ideas/3#vote"
    assert links.comment_path(3, 9) == "/ideas/3#comment-9"
    assert links.call_path("velo") == "/calls/velo"
    assert links.path("moderation:hide_comment", comment_id=5) == "/moderation/comments/5/hide"
    assert links.photo_path(3, 4, "thumb") == "/ideas/3/photos/4/thumb"


def test_query_strings_are_encoded(client: WebClient) -> None:
    # A `next` keeps its slashes readable, as the login redirect always wrote it; "#" and "&"
    # cannot end the parameter early.
    assert links.path("account:login", _query={"next": "/ideas/3#vote"}) == "/account/login?next=/ideas/3%23vote"
    assert (links.path("moderation:queue", _query=[("tab", "pending"), ("q", "a&b c"), ("call", None)])
            == "/moderation?tab=pending&q=a%26b%20c")
    rendered = env.from_string("""<a href="{{ url('account:login', _query={'next': n, 'lang': 'fr'}) }}">""")
    assert rendered.render(n='/x"><script>') == '<a href="/account/login?next=/x%22%3E%3Cscript%3E&amp;lang=fr">'


def test_an_unknown_name_or_a_missing_parameter_fails_loudly(client: WebClient) -> None:
    with pytest.raises(KeyError, match="idea:show"):
        links.path("idea:show", idea_id=3)
    with pytest.raises(NoMatchFound):
        links.path("idea:detail")


def test_binding_refuses_unnamed_or_twice_named_routes(client: WebClient) -> None:
    unnamed = APIRouter()
    unnamed.add_api_route("/x", lambda: None)
    with pytest.raises(ValueError, match="no name"):
        links.bind([unnamed])
    twice = APIRouter()
    twice.add_api_route("/a", lambda: None, name="page:same")
    twice.add_api_route("/b", lambda: None, name="page:same", methods=["POST"])
    with pytest.raises(ValueError, match="two routes"):
        links.bind([*ROUTERS, twice])
    # A refused binding leaves the site's index as it was.
    assert links.path("idea:detail", idea_id=1) == "/ideas/1"


def test_the_demo_writes_its_links_before_any_application_exists(settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # `reinventons demo` (and the browser tests) seed before the server creates the app.
    monkeypatch.setattr(links, "_routes", {})
    db = Database.from_settings(settings)
    try:
        assert demo.seed(db, settings)
        with db.autocommit_session() as session:
            written = session.exec(select(Notification.link)).all()
    finally:
        db.dispose()
    assert written and all(re.fullmatch(r"/ideas/\d+(#[a-z0-9-]+)?", link) for link in written), written
