"""A call's list reads its visitor in its own trip to the thread pool (issue 14,
app.account.sessions.visitor_read_by_route): the page still knows who is asking, on every
answer it gives, an error page included, and a stranger is still a stranger."""

from typing import Any

from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from sqlmodel import Session

from app.account.sessions import load_current_user
from app.main import create_app
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def test_the_list_and_its_error_page_know_the_visitor(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", title="Budget des quartiers")
    make_idea(session, call, title="Un banc sous le tilleul")
    reader = make_user(session, display_name="Camille Lefèvre")
    session.commit()

    anonymous = client.get(f"/calls/{call.slug}")
    assert anonymous.status_code == 200 and "Camille Lefèvre" not in anonymous.text
    assert "data-left-bucket" not in anonymous.text  # no supports left: nobody to count them for

    client.login_as(reader)
    page = client.get(f"/calls/{call.slug}?sort=supported&page=1")
    assert page.status_code == 200
    assert "Un banc sous le tilleul" in page.text and "Camille Lefèvre" in page.text
    assert "data-left-bucket=\"call\"" in page.text  # their supports left
    assert page.headers["cache-control"] == "no-store"

    missing = client.get("/calls/no-such-call")
    assert missing.status_code == 404
    assert "Camille Lefèvre" in missing.text  # the error page's header: the visitor was read first


def _loads_of_visitor(dependant: Any) -> int:
    """How many times `load_current_user` is in a dependency tree."""
    return sum((sub.call is load_current_user) + _loads_of_visitor(sub) for sub in dependant.dependencies)


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The application's routes, those of its included routers too (FastAPI keeps each as a
    `_IncludedRouter` holding its `original_router`)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_api_routes(route.original_router.routes))
    return found


def test_a_route_reading_its_visitor_itself_is_a_get_and_asks_for_no_visitor_before_it(settings: Settings) -> None:
    """`visitor_read_by_route` makes the application-wide loading of the visitor give None on a
    read: a marked route that took `CurrentUser` or a role check (`app.deps.allowed`) would
    see every visitor as anonymous, and an unsafe method would not be concerned by the mark.
    Every marked route of the application is a GET that asks for no visitor of its own (the
    application-wide loading, which it skips, is added to it apart), and the call's list is one."""
    marked = [route for route in _api_routes(create_app(settings).routes)
              if getattr(route.endpoint, "reads_visitor_in_its_trip", False)]
    assert "call:detail" in {route.name for route in marked}
    for route in marked:
        assert route.methods <= {"GET", "HEAD"}, route.name
        assert _loads_of_visitor(get_dependant(path=route.path, call=route.endpoint)) == 0, route.name
