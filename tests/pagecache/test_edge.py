"""The edge answers kept pages before FastAPI's stack (app.edge, issue 14): the answer must be
the one the stack would give. A kept page is never what a request gets that the stack refuses
(a Host not served, a body over the limit); a hit names its request id and route as any answer."""

import logging

import psycopg
import pytest
from sqlmodel import Session

from app.main import create_app
from app.settings import Settings
from tests.factories import make_call
from tests.support import WebClient


def _kept(client: WebClient, path: str) -> None:
    for _ in range(3):
        if client.get(path).headers.get("x-page-cache") == "hit":
            return
    raise AssertionError(f"{path} is never served from the cache")


def test_a_kept_page_is_never_the_answer_to_a_host_not_served(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget participatif 2027")
    session.commit()
    path = f"/calls/{call.slug}"
    _kept(client, path)
    for host in ("evil.example", "testserver.evil.example", ""):
        answer = client.get(path, headers={"host": host})
        assert answer.status_code == 400 and "Budget participatif 2027" not in answer.text, host


def test_a_get_with_a_body_over_the_limit_gets_the_413_page_not_the_kept_one(
        client: WebClient, session: Session) -> None:
    """Before the edge, the cache answered ahead of the body's limit: a GET carrying 41 MB got
    the kept page, where the same GET on a page not yet kept got the 413 page."""
    call = make_call(session, title="Budget participatif 2027")
    session.commit()
    path = f"/calls/{call.slug}"
    _kept(client, path)
    answer = client.request("GET", path, content=b"x" * (client.settings.max_body_bytes + 1))
    assert answer.status_code == 413 and "Budget participatif 2027" not in answer.text
    assert answer.headers.get("x-page-cache") != "hit"


def test_a_hit_names_its_request_id_and_route_in_its_answer_and_access_line(
        client: WebClient, session: Session, caplog: object) -> None:
    call = make_call(session)
    session.commit()
    path = f"/calls/{call.slug}"
    _kept(client, path)
    with caplog.at_level(logging.INFO, logger="app.access"):  # type: ignore[attr-defined]
        first, second = client.get(path), client.get(path)
    assert first.headers["x-page-cache"] == second.headers["x-page-cache"] == "hit"
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1] and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    lines = [r for r in caplog.records if r.name == "app.access"]  # type: ignore[attr-defined]
    assert [(r.getMessage().rsplit(" ", 1)[0], r.route, r.status) for r in lines] == [  # type: ignore[attr-defined]
        (f"GET {path} 200", "call:detail", 200)] * 2
    # The security headers the stack adds are kept with the page.
    assert "content-security-policy" in second.headers and second.headers["x-frame-options"] == "DENY"


def test_a_page_made_reads_the_generation_once(client: WebClient, session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge looked the page up under the generation it read; the middleware making the page
    keeps it under that one. Read again, it cost a miss a second trip to the thread pool on
    PostgreSQL (app.pagecache.shared_read)."""
    call = make_call(session, title="Budget participatif 2027")
    session.commit()
    generation = client.app.edge.cache.generation  # type: ignore[attr-defined]
    reads: list[str] = []
    read_now = generation.read_now

    async def counted() -> str:
        reads.append(await read_now())
        return reads[-1]

    monkeypatch.setattr(generation, "read_now", counted)
    made = client.get(f"/calls/{call.slug}")
    assert made.headers["x-page-cache"] == "miss" and "Budget participatif 2027" in made.text
    assert len(reads) == 1
    assert client.get(f"/calls/{call.slug}").headers["x-page-cache"] == "hit" and len(reads) == 2


def test_a_generation_out_of_reach_gets_the_500_page_with_its_request_id(
        settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge reads the generation before FastAPI's stack: raised there (PostgreSQL out of
    reach: psycopg.OperationalError), it escaped the 500 page, the request id and the security
    headers, and the server's bare "Internal Server Error" answered (nor did Sentry, inside the
    stack, see it). The stack's answer is the one every other error gets."""
    call = make_call(session, title="Budget participatif 2027")
    session.commit()

    async def out_of_reach() -> str:
        raise psycopg.OperationalError("connection to server failed: Connection refused")

    with WebClient(create_app(settings), base_url="http://testserver", raise_server_exceptions=False) as web:
        monkeypatch.setattr(web.db.generation, "read_now", out_of_reach)
        answer = web.get(f"/calls/{call.slug}")
    assert answer.status_code == 500 and "text/html" in answer.headers["content-type"]
    assert "Budget participatif 2027" not in answer.text and answer.headers["x-frame-options"] == "DENY"
    assert len(answer.headers["x-request-id"]) == 32
