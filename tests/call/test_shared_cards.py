"""A logged-in citizen's list of a call's ideas takes each card's shared part, and the page's
shared regions, from what each process keeps (app.call.cards): every write through any server
shows at once, nothing personal is ever kept or shown to someone else, and a page made from
what is kept is the page rendered afresh."""

import re
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from app import clock
from app.account.models import Role
from app.call import cards
from app.call.models import Call, Category
from app.idea.models import Idea
from app.main import create_app
from app.settings import Settings
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient

BODY = "Une idée détaillée pour améliorer la vie du quartier, avec des arbres."


@pytest.fixture
def other(settings: Settings) -> Iterator[WebClient]:
    """A second server on the same database: what another process is."""
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        yield web


def _card(page: str, idea_id: int | None) -> str:
    """The HTML of one idea's card in a list page ("" when the idea is not listed)."""
    found = re.search(rf'<li class="idea-card" id="card-{idea_id}">(.*?)</li>', page, re.DOTALL)
    return found.group(1) if found else ""


def _listed(web: WebClient, path: str) -> str:
    """A logged-in list page, asked twice: the second from the cards the first one kept."""
    first = web.get(path)
    assert first.status_code == 200 and first.headers["x-page-cache"] == "bypass"
    second = web.get(path)
    assert second.text == first.text
    return second.text


def test_every_write_through_another_server_shows_at_once_in_a_logged_in_list(
        client: WebClient, other: WebClient, session: Session) -> None:
    call = make_call(session, phase="submissions", voting_during_submissions=True)
    theme = make_category(session, call, name="Mobilité douce")
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des bancs sur la place du Marché", category=theme)
    shown = make_idea(session, call, title="Une fontaine au parc d’Avroy")
    viewer, supporter = make_user(session, display_name="Amandine Lejeune"), make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    path = f"/calls/{call.slug}"
    client.login_as(viewer)
    before = _card(_listed(client, path), idea.id)
    assert "Des bancs sur la place du Marché" in before and "Mobilité douce" in before
    assert re.search(r"data-card-count>0 ", before)

    other.login_as(supporter)  # a support, through the other server
    assert other.submit(f"/ideas/{idea.id}/vote").status_code == 303
    assert re.search(r"data-card-count>1 ", _card(_listed(client, path), idea.id))

    other.cookies.clear()  # an edit of the idea by its author
    other.login_as(author)
    assert other.submit(f"/ideas/{idea.id}/edit", {"title": "Des bancs en bois place du Marché", "body_md": BODY,
                                                  "category_id": str(theme.id)}).status_code == 303
    card = _card(_listed(client, path), idea.id)
    assert "Des bancs en bois place du Marché" in card and "Des bancs sur la place" not in card

    # The theme renamed (nothing of the idea's own row changes): only the generation tells.
    with other.db.transaction() as writing:
        renamed = writing.get(Category, theme.id)
        assert renamed is not None
        renamed.name = "Nature en ville"
    page = _listed(client, path)
    assert "Nature en ville" in _card(page, idea.id) and "Mobilité douce" not in page  # the filters too

    other.cookies.clear()  # an official answer, then a hidden idea, by a moderator
    other.login_as(moderator)
    assert other.submit(f"/moderation/ideas/{idea.id}/answer", {
        "answer_status": "accepted", "answer_md": "La Ville les installera au printemps."}).status_code == 303
    answered = _listed(client, f"{path}?status=accepted")
    assert _card(answered, idea.id) and not _card(answered, shown.id)
    page = _listed(client, path)
    assert _card(page, shown.id) and '<span class="count">(2)</span>' in page
    assert other.submit(f"/moderation/ideas/{shown.id}/hide", {"reason": "Hors charte"}).status_code == 303
    page = _listed(client, path)
    assert not _card(page, shown.id) and "Une fontaine au parc d’Avroy" not in page
    assert '<span class="count">(1)</span>' in page

    with other.db.transaction() as writing:  # selected while the results are not out yet
        selected = writing.get(Idea, idea.id)
        assert selected is not None
        selected.winner = True
    card = _card(_listed(client, path), idea.id)
    assert "tag-winner" not in card and "<form" in card
    with other.db.transaction() as writing:  # a phase change alone: the selection is public
        changed = writing.get(Call, call.id)
        assert changed is not None
        changed.phase_override = "results"
    card = _card(_listed(client, path), idea.id)
    assert "tag-winner" in card and "<form" not in card  # and supports are closed


def test_two_citizens_never_see_each_others_supports_or_token(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    idea, left_alone = make_idea(session, call), make_idea(session, call)
    first, second = make_user(session, display_name="Amandine Lejeune"), make_user(session, display_name="Jules Piron")
    session.commit()
    path = f"/calls/{call.slug}"
    neighbour = WebClient(client.app, base_url="http://testserver")  # the same server, another browser
    client.login_as(first)
    neighbour.login_as(second)
    assert client.submit(f"/ideas/{idea.id}/vote").status_code == 303
    assert "flash" in client.get(path).text  # the vote's message, shown once
    tokens = {client.csrf(), neighbour.csrf()}
    assert len(tokens) == 2
    for _round in range(2):  # each one's page made from the cards the other's page kept
        for web, supports, name in ((client, True, "Amandine Lejeune"), (neighbour, False, "Jules Piron")):
            page = _listed(web, path)
            card = _card(page, idea.id)
            assert ('<p class="card-voted" data-card-voted>' in card) is supports
            button = re.search(r"<button[^>]*>([^<]+)</button>", card)
            assert button is not None and button.group(1).startswith("Retirer") is supports
            assert "data-card-voted hidden" in _card(page, left_alone.id)
            assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {web.csrf()}
            assert name in page and ({"Amandine Lejeune", "Jules Piron"} - {name}).pop() not in page
            left = re.search(r'class="card-left"[^>]*>([^<]+)<', card)
            assert left is not None and ("2" if supports else "3") in left.group(1)
    kept = cards.kept_html()
    assert any(f'id="card-{idea.id}"' in html for html in kept)
    for html in kept:  # what is kept is no one's: no token, no name
        assert not tokens & set(re.findall(r'value="([^"]+)"', html))
        for personal in ("Amandine", "Jules"):
            assert personal not in html
        if html.startswith(('<ul class="idea-cards">', "<!DOCTYPE html>")):
            # A list kept by its cards' states, a page by its viewer's shape (app.call.shell): slots.
            assert set(re.findall(r'name="csrf_token" value="([^"]*)"', html)) <= {str(cards.CSRF_SLOT)}
        else:  # a card's or a region's part that every visitor sees alike
            for personal in ("card-voted", "card-vote"):
                assert personal not in html


def test_a_page_from_kept_cards_is_the_page_rendered_afresh(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    themes = [make_category(session, call) for _ in range(2)]
    for n in range(6):
        make_idea(session, call, title=f"Idée <b>n°{n}</b> & “guillemets”", category=themes[n % 2])
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    kept = _listed(client, f"/calls/{call.slug}")
    assert "Idée &lt;b&gt;n°3&lt;/b&gt; &amp; “guillemets”" in kept  # escaped once, kept escaped
    cards.forget()
    assert client.get(f"/calls/{call.slug}").text == kept
    english = client.get(f"/calls/{call.slug}?lang=en").text  # each language its own cards
    assert "0 supports" in english and "0 soutien" in kept


def test_what_is_kept_stays_within_its_bound_in_memory_whatever_the_script(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # One emoji makes Python keep each character of a card's HTML in 4 bytes, not 1.
    monkeypatch.setattr(cards.KEPT, "max_weight", 20_000)
    monkeypatch.setattr(cards.CARD_LISTS, "max_weight", 20_000)
    call = make_call(session, phase="voting")
    for n in range(12):
        make_idea(session, call, title=f"Un potager partagé 🌱 n°{n}", body_md=BODY)
    citizen = make_user(session)
    session.commit()
    cards.forget()
    client.login_as(citizen)
    page = _listed(client, f"/calls/{call.slug}")
    assert "🌱 n°11" in page
    for store in (cards.KEPT, cards.CARD_LISTS):  # each store within its own bound
        assert sum(sys.getsizeof(html) for html in store.values()) <= 20_000
    assert cards.KEPT.values()


def _text_bytes(page: object) -> int:
    """The memory of the texts a kept page of ideas holds (titles, bodies, answers)."""
    return sum(sys.getsizeof(value) for card in getattr(page, "cards", [])
               for value in vars(card.idea).values() if isinstance(value, str))


def test_the_pages_of_ideas_kept_stay_within_their_bound_in_memory(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # Long bodies (the form takes 10,000 characters) with an emoji: about 80 KB an idea in memory.
    monkeypatch.setattr(cards.LISTINGS, "max_weight", 4 * 1024 * 1024)
    call = make_call(session, phase="voting")
    for n in range(24):
        make_idea(session, call, title=f"Un potager partagé n°{n}", body=("Des légumes 🌱 pour tous. " * 370)[:9_990])
    citizen = make_user(session)
    session.commit()
    cards.forget()
    client.login_as(citizen)
    for seed in range(1, 9):  # each order a page of its own: 8 pages of 24 long ideas
        assert client.get(f"/calls/{call.slug}?sort=random&seed={seed}").status_code == 200
    kept = cards.kept_listings()
    assert kept and sum(_text_bytes(page) for page in kept) <= 4 * 1024 * 1024


def test_a_phase_ending_by_the_clock_shows_at_once_in_a_logged_in_list(client: WebClient, session: Session) -> None:
    # No write: the results open by their date while the list's cards, regions and page are kept.
    call = make_call(session, phase="voting")
    call.results_start = clock.utcnow() + timedelta(seconds=6)  # well within what a kept page lives
    call.review_start = clock.utcnow() + timedelta(seconds=3)
    winner = make_idea(session, call, title="Des bancs sur la place du Marché", winner=True)
    make_idea(session, call, title="Une fontaine au parc d’Avroy")
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    path = f"/calls/{call.slug}"
    for query in ("", "?status=winner"):
        page = _listed(client, path + query)
        assert "tag-winner" not in page and "results-title" not in page
    assert "data-card-vote " in _card(_listed(client, path), winner.id)
    with clock.travel(timedelta(seconds=4)):  # review: supports closed
        assert "data-card-vote " not in _card(_listed(client, path), winner.id)
    with clock.travel(timedelta(seconds=7)):  # results: the selection is public
        page = _listed(client, path)
        assert "tag-winner" in _card(page, winner.id) and "results-title" in page
        assert _listed(client, path + "?status=winner").count('class="idea-card"') == 1


def test_the_call_s_description_is_kept_once_whatever_the_order_and_page(client: WebClient, session: Session) -> None:
    # The results, announcements, timeline and description do not change with the list's filters,
    # order or page: one copy each, not one per random seed a visitor was given.
    call = make_call(session, phase="voting", description_md="Un appel **ouvert** à toutes les idées. " * 50)
    for _ in range(30):
        make_idea(session, call)
    citizen = make_user(session)
    session.commit()
    cards.forget()
    client.login_as(citizen)
    for query in ("", "?page=2", "?sort=supported", *(f"?sort=random&seed={seed}" for seed in range(1, 6))):
        assert "about-title" in client.get(f"/calls/{call.slug}{query}").text
    regions = [html for html in cards.kept_html() if not html.startswith("<!DOCTYPE html>")]  # not the pages' shells
    assert sum('id="about-title"' in html for html in regions) == 1
