"""A page costs the same number of SQL statements whatever its length (issue 14): a call's list
at most 6 for an anonymous visitor (the page generation's read included on PostgreSQL), as many
with 50 ideas as with 10; an idea page as many with 50 comments as with 5; a logged-in
citizen's list as many with 50 ideas as with 10."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app.call.models import Category
from app.identity.models import CityIdentity
from app.identity.service import ROW_ID
from app.main import create_app
from tests.factories import make_call, make_category, make_comment, make_idea, make_user
from tests.support import WebClient, counting, make_settings

TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture
def uncached(tmp_path: Path, database_url: str) -> Iterator[WebClient]:
    """The platform without its page cache: every request is made, as a miss is."""
    with WebClient(create_app(make_settings(tmp_path / "var", database_url, page_cache_mb=0)),
                   base_url="http://testserver") as web:
        yield web


def _statements(web: WebClient, path: str) -> list[str]:
    assert web.get(path).status_code == 200  # warm: what is kept while nothing is written
    with counting(web.db.engine) as seen:
        assert web.get(path).status_code == 200
    return [s for s in seen if not s.lstrip().upper().startswith(TRANSACTION)]


def test_a_list_costs_at_most_six_statements_whatever_its_length(uncached: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    themes = [make_category(session, call) for _ in range(3)]
    for n in range(10):
        make_idea(session, call, category=themes[n % 3])
    session.commit()
    citizen = make_user(session)
    session.commit()
    few = _statements(uncached, f"/calls/{call.slug}")
    assert len(few) <= 6, "\n".join(s[:100] for s in few)
    logged_in = WebClient(uncached.app, base_url="http://testserver")  # the same server, another browser
    logged_in.login_as(citizen)
    mine_few = _statements(logged_in, f"/calls/{call.slug}")
    # Only what is the viewer's: the session and its person, the unread count, and their ideas
    # with the supports they hold and those on the page, in one (app.call.queries.viewer_part;
    # the call's row and announcements are kept).
    assert len(mine_few) <= 3, "\n".join(s[:100] for s in mine_few)
    for n in range(40):
        make_idea(session, call, category=themes[n % 3])
    session.commit()
    # A logged-in citizen's list (cards kept per process, app.call.cards): 10 ideas as 50.
    mine_many = _statements(logged_in, f"/calls/{call.slug}")
    assert len(mine_many) == len(mine_few), "\n".join(s[:100] for s in mine_many)
    many = _statements(uncached, f"/calls/{call.slug}")
    assert len(many) == len(few), "\n".join(s[:100] for s in many)
    assert len(_statements(uncached, f"/calls/{call.slug}?page=2")) == len(few)

    uncached.login_as(citizen)
    assert len(_statements(uncached, f"/calls/{call.slug}")) == len(mine_many)
    for n in range(10):
        make_idea(session, call, citizen, category=themes[0])
    session.commit()
    assert len(_statements(uncached, f"/calls/{call.slug}")) == len(mine_many)


def test_an_idea_page_costs_the_same_with_5_or_50_comments(uncached: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call)
    people = [make_user(session) for _ in range(5)]
    for n in range(5):
        make_comment(session, idea, people[n])
    session.commit()
    few = _statements(uncached, f"/ideas/{idea.id}")
    for n in range(45):
        make_comment(session, idea, people[n % 5])
    session.commit()
    assert len(_statements(uncached, f"/ideas/{idea.id}")) == len(few)


def test_what_lists_keep_is_read_again_after_a_write_through_another_server(
        uncached: WebClient, tmp_path: Path, database_url: str, session: Session) -> None:
    call = make_call(session)
    make_category(session, call, name="Mobilité douce")
    session.commit()
    assert "Mobilité douce" in uncached.get(f"/calls/{call.slug}").text
    assert "Mobilité douce" in uncached.get(f"/calls/{call.slug}").text  # kept now
    with WebClient(create_app(make_settings(tmp_path / "other", database_url, page_cache_mb=0)),
                   base_url="http://testserver") as other, other.db.transaction() as writing:
        writing.add(Category(call_id=call.id or 0, slug="nature", name="Nature en ville", position=9))
        assert writing.get(CityIdentity, ROW_ID) is None
        writing.add(CityIdentity(id=ROW_ID, platform_name="Participation Liège", city_name="Liège",
                                 primary_color="#0b5c4f", accent_color="#07443a"))
    page = uncached.get(f"/calls/{call.slug}").text
    assert "Nature en ville" in page and "Participation Liège" in page
