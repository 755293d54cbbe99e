"""What every request pays before its route (issue 14): the visitor, the header's unread count
and the city's identity are read in one trip to the thread pool, not one each; the checks that
read nothing (ids, NUL characters, CSRF, a role) take none. A trip is a wake-up of a worker
thread and then of the event loop, about 0.3 ms of CPU: a logged-in list page took 5 and a page
behind a role 6. Counted, never timed; the page still says what each reading found."""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest
from sqlmodel import Session

from app.notify.models import Notification
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

JSON = {"Accept": "application/json"}
# The route's own trip besides; on PostgreSQL, ending a read talks to the server: one more.
PAGE = {"sqlite": 2, "postgresql": 3}
# A call's list reads its visitor, its page and ends its read in its one trip, on both
# (app.account.sessions.visitor_read_by_route).
LIST_PAGE = 1


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The functions run in the thread pool within the block, by name."""
    seen: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def noting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        inner = func.func if isinstance(func, functools.partial) else func
        seen.append(getattr(inner, "__qualname__", repr(inner)))
        return await run_sync(func, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(anyio.to_thread, "run_sync", noting)
        yield seen


def test_a_logged_in_page_reads_its_visitor_count_and_identity_in_one_trip(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    call = make_call(session, phase="voting", title="Budget des quartiers")
    make_idea(session, call, title="Un banc sous le tilleul")
    reader = make_user(session, display_name="Camille Lefèvre")
    assert reader.id is not None
    session.add(Notification(user_id=reader.id, kind="comment", subject="Idée", link="/"))
    session.commit()
    client.login_as(reader)
    client.get(f"/calls/{call.slug}")  # templates compiled, connections opened: not the request's
    client.get("/supports/mine")
    bound = PAGE[client.db.engine.dialect.name]

    with trips(monkeypatch) as seen:
        page = client.get(f"/calls/{call.slug}")
    assert page.status_code == 200
    assert "Un banc sous le tilleul" in page.text and "Camille Lefèvre" in page.text
    assert '<span class="badge">1</span>' in page.text
    assert len(seen) <= LIST_PAGE, seen

    with trips(monkeypatch) as seen:  # behind a role (CitizenUser): the check takes no trip
        mine = client.get("/supports/mine")
    assert mine.status_code == 200 and '<span class="badge">1</span>' in mine.text
    assert len(seen) <= bound, seen


def test_a_support_takes_two_trips(client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    token = client.csrf()

    with trips(monkeypatch) as seen:
        answer = client.post(f"/ideas/{idea.id}/vote", data={"csrf_token": token}, headers=JSON)
    assert answer.status_code == 200 and answer.json()["vote_count"] == 1
    assert len(seen) <= 2, seen  # the visitor, the route
