"""The call page's row of the call is kept per process (app.call.queries.kept_call_by_slug), shared
by every viewer: whether each one may see it is decided for each request. A draft call an
administrator viewed (and so kept) is still missing for a citizen and for a visitor, and for the
administrator once they are one no longer."""

from sqlmodel import Session

from app.account.models import Role, User
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def test_a_draft_call_kept_for_an_administrator_stays_hidden_from_everyone_else(
        client: WebClient, session: Session) -> None:
    call = make_call(session, phase="draft", title="Appel encore secret")
    make_idea(session, call, title="Une idée du brouillon")
    admin = make_user(session, role=Role.admin)
    citizen = make_user(session)
    session.commit()
    path = f"/calls/{call.slug}"
    browsers = {}
    for person in (admin, citizen):
        browsers[person.id] = WebClient(client.app, base_url="http://testserver").login_as(person)
    visitor = WebClient(client.app, base_url="http://testserver")
    for _round in range(2):  # the second round served from what the first one kept
        assert "Appel encore secret" in browsers[admin.id].get(path).text
        for web in (browsers[citizen.id], visitor):
            response = web.get(path)
            assert response.status_code == 404 and "Appel encore secret" not in response.text
    with client.db.transaction() as writing:  # no longer an administrator
        demoted = writing.get(User, admin.id)
        assert demoted is not None
        demoted.role = Role.citizen
    response = browsers[admin.id].get(path)
    assert response.status_code == 404 and "Une idée du brouillon" not in response.text
