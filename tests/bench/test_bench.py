"""The benchmark's own parts (bench/): wrk's report read right, and a filled database as the
platform keeps its data (counters equal rows, excerpts, working sessions for the posters)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from app.call.models import Call
from app.db import Database
from app.idea.queries import CallFigures, call_figures
from app.main import create_app
from app.pages.home import key_figures
from app.vote.models import Vote
from bench import dataset, load
from tests.idea.call_figures_oracle import recount as call_recount
from tests.pages.key_figures_oracle import recount
from tests.support import WebClient, make_settings

# A report of wrk 4.1.0 (Debian's), as printed with --latency.
REPORT = """Running 1s test @ http://127.0.0.1:8765/README.md
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.24ms    1.58ms  17.68ms   91.30%
    Req/Sec     2.02k   383.95     2.53k    54.55%
  Latency Distribution
     50%  757.00us
     75%    1.14ms
     90%    2.58ms
     99%    1.20s
  2207 requests in 1.10s, 39.24MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   2006.91
Transfer/sec:     35.68MB
"""


def _key_figures(session: Session) -> tuple[int, int, int]:
    figures = key_figures(session, answered_share=0, median_days=None)
    return figures.ideas, figures.participants, figures.supports


def _call_figures(session: Session) -> dict[int, CallFigures]:
    return {call_id: call_figures(session, call_id) for call_id in session.exec(select(col(Call.id))).all()}


def _call_recount(session: Session) -> dict[int, CallFigures]:
    return {call_id: call_recount(session, call_id) for call_id in session.exec(select(col(Call.id))).all()}


def test_wrks_report_is_read_with_its_units() -> None:
    measure = load.parse("home", "/", REPORT)
    assert (measure.requests_per_s, measure.p50_ms, measure.p99_ms) == (2006.91, 0.757, 1200.0)
    assert (measure.non_2xx, measure.requests) == (12, 2207)
    with pytest.raises(ValueError, match="wrk said"):
        load.parse("home", "/", "unable to connect to 127.0.0.1:1 Connection refused")


def test_a_filled_database_is_consistent_and_its_posters_can_support(tmp_path: Path,
                                                                     empty_database: str) -> None:
    settings = make_settings(tmp_path / "var", empty_database)
    size = dataset.Size(ideas=90, votes=400, comments=120, citizens=40, calls=3)
    filled = dataset.fill(empty_database, settings, size)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM idea")).scalar_one() == 90
        votes = conn.execute(sa.text("SELECT count(*) FROM vote")).scalar_one()
        assert votes == 400 and conn.execute(sa.text("SELECT sum(vote_count) FROM idea")).scalar_one() == votes
        assert conn.execute(sa.text("SELECT sum(comment_count) FROM idea")).scalar_one() == 120
        assert conn.execute(sa.text("SELECT comment_count FROM idea WHERE id = :i"),
                            {"i": filled.idea_with_50_comments}).scalar_one() >= 50
        assert conn.execute(sa.text("SELECT count(*) FROM idea WHERE excerpt = ''")).scalar_one() == 0
    engine.dispose()
    # The home page's figures, backfilled after the load, and their triggers back in place.
    database = Database.from_settings(settings)
    with database.transaction() as s:
        assert _key_figures(s) == recount(s) == (90, 40, 400)
        assert _call_figures(s) == _call_recount(s) and sum(f.ideas for f in _call_figures(s).values()) == 90
        s.execute(sa.text("UPDATE idea SET hidden_at = created_at WHERE id % 3 = 0"))
        assert _key_figures(s) == recount(s) and recount(s)[0] == 60
        assert _call_figures(s) == _call_recount(s) and sum(f.ideas for f in _call_figures(s).values()) == 60
    database.dispose()

    with WebClient(create_app(settings), base_url="http://testserver") as web:
        assert web.get(f"/calls/{filled.call_slug}").status_code == 200
        cookie, csrf = filled.poster_cookies[0]
        for part in cookie.split("; "):
            name, value = part.split("=", 1)
            web.cookies.set(name, value)
        answer = web.post(f"/ideas/{filled.target_ideas[0]}/vote", data={"csrf_token": csrf},
                          headers={"Accept": "application/json"})
        assert answer.status_code == 200, answer.text[:300]
        assert web.get("/search", params={"q": "parc"}).status_code == 200
    # Measured again (--reuse): the posters' new sessions work, and the idea one of them
    # supported is no longer a target (supported again, it answers 409).
    again = dataset.existing(empty_database, settings)
    assert filled.target_ideas[0] not in again.target_ideas
    assert sorted(again.target_ideas) == sorted(filled.target_ideas[1:])


def test_only_selects_measures_by_the_start_of_their_slug() -> None:
    from bench.__main__ import COMMENTS, SUPPORTS, chosen, slug

    assert slug("list, logged-in citizen") == "list-logged-in-citizen"
    assert chosen("", "home") and chosen("", SUPPORTS)
    assert chosen("list-logged-in", "list, logged-in citizen") and not chosen("list-logged-in", "list, page 1")
    assert chosen("home,support", SUPPORTS) and not chosen("home,support", COMMENTS)


def test_a_fill_that_fails_midway_leaves_the_tallies_triggers_in_place(tmp_path: Path, empty_database: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The fill drops the tallies' triggers for its load, committed with its first batch: an
    # interrupted fill left a database whose figures read zero for good, and a run measuring it
    # again (--reuse) served every call's list as one page.
    settings = make_settings(tmp_path / "var", empty_database)
    insert = dataset._insert

    def failing(conn: sa.Connection, model: type[SQLModel], values: Iterator[dict[str, Any]]) -> None:
        if model is Vote:
            raise KeyboardInterrupt  # the operator's Ctrl-C, in the longest part of the load
        insert(conn, model, values)

    monkeypatch.setattr(dataset, "_insert", failing)
    with pytest.raises(KeyboardInterrupt):
        dataset.fill(empty_database, settings, dataset.Size(ideas=90, votes=400, comments=120, citizens=40, calls=3))
    database = Database.from_settings(settings)
    with database.transaction() as s:
        assert s.execute(sa.text("SELECT count(*) FROM idea")).scalar_one() == 90  # the load up to the votes
        assert _call_figures(s) == _call_recount(s) and sum(f.ideas for f in _call_figures(s).values()) > 0
        assert _key_figures(s) == recount(s)
        s.execute(sa.text("UPDATE idea SET hidden_at = created_at WHERE id % 3 = 0"))  # the triggers follow it
        assert _call_figures(s) == _call_recount(s) and _key_figures(s) == recount(s)
    database.dispose()
