"""A call's list reads its visitor in its own trip to the thread pool (issue 14,
app.account.sessions.visitor_read_by_route): the page still knows who is asking, on every
answer it gives, an error page included, and a stranger is still a stranger."""

from sqlmodel import Session

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
