"""The random order of a call's ideas holds across pages for a visitor whose browser keeps no
cookies: the links carry the order's seed."""

import html
import re

import pytest
from sqlmodel import Session, select

from app.idea.models import Idea
from tests.call.test_browse import card_ids
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def _walk(client: WebClient, url: str) -> list[int]:
    """Every card from `url` to the last page, following "Next page" with no cookie kept."""
    seen: list[int] = []
    for _ in range(20):
        client.cookies.clear()
        response = client.get(url)
        assert response.status_code == 200
        seen += card_ids(response.text)
        link = NEXT.search(response.text)
        if link is None:
            return seen
        url = html.unescape(link.group(1))
    raise AssertionError("more pages than expected")


def test_walking_every_page_without_cookies_shows_each_idea_once(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    ideas = [make_idea(session, call, author) for _ in range(60)]  # three pages of 24
    make_idea(session, call, author, status="draft")
    session.commit()
    for _ in range(3):  # each walk draws its own seed
        seen = _walk(client, f"/calls/{call.slug}?sort=random")
        assert len(seen) == len(set(seen)) == 60
        assert set(seen) == {idea.id for idea in ideas}


def test_filter_form_and_page_links_keep_the_seed(client: WebClient, session: Session) -> None:
    call = make_call(session)
    theme = make_category(session, call)
    for _ in range(30):
        make_idea(session, call, category=theme)
    session.commit()
    page = client.get(f"/calls/{call.slug}", params={"sort": "random", "category": theme.id, "seed": "4242"}).text
    assert f'href="/calls/{call.slug}?category={theme.id}&amp;sort=random&amp;seed=4242&amp;page=2"' in page
    # The filter form sends the seed along, so changing the theme keeps the same shuffle.
    assert '<input type="hidden" name="seed" value="4242">' in page
    # Same seed, same order, whoever asks.
    client.cookies.clear()
    again = client.get(f"/calls/{call.slug}", params={"sort": "random", "category": theme.id, "seed": "4242"})
    assert card_ids(again.text) == card_ids(page)
    # Other orders do not depend on a seed: their links carry none.
    newest = NEXT.search(client.get(f"/calls/{call.slug}", params={"seed": "4242"}).text)
    assert newest is not None and "seed=" not in newest.group(1)


@pytest.mark.parametrize("seed", ["-1", "abc", "1e9", "99999999999999999999", "１２３", "1000000000", ""])
def test_a_malformed_seed_gets_a_fresh_one(client: WebClient, session: Session, seed: str) -> None:
    call = make_call(session)
    for _ in range(30):
        make_idea(session, call)
    session.commit()
    response = client.get(f"/calls/{call.slug}", params={"sort": "random", "seed": seed})
    assert response.status_code == 200
    link = NEXT.search(response.text)
    assert link is not None
    fresh = re.search(r"seed=(\d+)", link.group(1))
    assert fresh is not None and len(fresh.group(1)) <= 9 and fresh.group(1) != seed


def test_random_order_with_large_ids_and_seeds(client: WebClient, session: Session) -> None:
    """The shuffle multiplies ids by a factor up to a million: computed in 64 bits, an id past
    2,147 does not overflow PostgreSQL's 32-bit integer (a 500 before)."""
    call = make_call(session)
    author = make_user(session)
    for n in range(3):
        make_idea(session, call, author, id=2_000_000_000 + n)
    make_idea(session, call, author)
    session.commit()
    for seed in ("0", "1", "999999999", "123456789"):
        response = client.get(f"/calls/{call.slug}", params={"sort": "random", "seed": seed})
        assert response.status_code == 200
        assert sorted(card_ids(response.text)) == sorted(session.exec(select(Idea.id)).all())
