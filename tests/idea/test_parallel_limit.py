"""The ideas-per-citizen limit holds when one person submits many ideas at the same moment."""

from sqlalchemy import func
from sqlmodel import Session, select

from app.idea.models import Idea
from tests.factories import make_call, make_user
from tests.support import LiveServer
from tests.vote.parallel import browser, in_parallel, session_token


def test_parallel_submissions_cannot_pass_the_limit(live_server: LiveServer, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=2)
    author = make_user(session)
    session.commit()
    token = session_token(session, author)
    url = f"/calls/{call.slug}/ideas/new"  # read here: the test's session is not for threads

    def submit(i: int) -> int:
        with browser(live_server, token, json=False) as http:
            response = http.post(url, data={"title": f"Idée parallèle {i}", "action": "draft"})
            return response.status_code

    codes = in_parallel(8, submit)
    assert sorted(codes) == [303, 303] + [422] * 6
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Idea).where(Idea.author_id == author.id)).one() == 2
