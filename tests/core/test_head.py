"""HEAD is answered as GET without the body (RFC 9110, sections 9.1 and 9.3.2): uptime
monitors and link checkers ask HEAD, and every page used to answer them 405."""

from sqlmodel import Session

from app.clock import utcnow
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def test_pages_answer_head_with_the_headers_of_get_and_no_body(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call)
    session.commit()
    for path in ("/", "/calls", f"/calls/{call.slug}", f"/ideas/{idea.id}", "/robots.txt", "/sitemap.xml"):
        got = client.get(path)
        head = client.head(path)
        assert (path, head.status_code) == (path, 200)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))


def test_head_sees_what_get_sees(client: WebClient, session: Session) -> None:
    call = make_call(session)
    hidden = make_idea(session, call, hidden_at=utcnow())
    session.commit()
    assert client.head(f"/ideas/{hidden.id}").status_code == 404  # a hidden idea stays hidden
    assert client.head("/no/such/page").status_code == 404
    assert client.head("/account/logout").status_code == 405  # a POST-only form has no GET
    moderator = make_user(session, role="moderator")
    session.commit()
    queue = client.head("/moderation", follow_redirects=False)
    assert queue.status_code in (303, 307, 401, 403)  # not signed in: not the queue
    assert client.login_as(moderator).head("/moderation").status_code == 200
