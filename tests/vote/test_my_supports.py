"""My supports (issue 15): a person's supports call by call, with what is used and left under
each limit while voting is open, reachable from the menu; nobody else's, nothing hidden."""

import html
import re

import pytest
from sqlmodel import Session

from app.account.models import User
from app.call.models import VoteScope
from app.clock import utcnow
from app.idea.models import Idea
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    assert client.get("/?lang=en").status_code == 200


def _support(client: WebClient, idea: Idea) -> None:
    assert client.submit(f"/ideas/{idea.id}/vote").status_code == 303


def _section(page: str, title: str) -> str:
    start = page.index(f">{title}</a></h2>")
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(page[start:page.index("</section>", start)])).split())


def _world(session: Session, client: WebClient) -> tuple[User, dict[str, Idea]]:
    parks_call = make_call(session, title="Liège en fleurs", phase="voting", votes_per_citizen=3,
                           vote_scope=VoteScope.category)
    parks, mobility = make_category(session, parks_call, name="Parcs"), make_category(session, parks_call,
                                                                                     name="Mobilité")
    ideas = {
        "bancs": make_idea(session, parks_call, title="Des bancs au parc d'Avroy", category=parks),
        "verger": make_idea(session, parks_call, title="Un verger au Sart-Tilman", category=parks),
        "pistes": make_idea(session, parks_call, title="Pistes cyclables rue Léopold", category=mobility),
        "cache": make_idea(session, parks_call, title="Une idée bientôt cachée", category=parks),
    }
    person = make_user(session)
    client.login_as(person)
    session.commit()
    for key in ("bancs", "verger", "pistes", "cache"):
        _support(client, ideas[key])
    ideas["cache"].hidden_at = utcnow()
    session.add(ideas["cache"])
    session.commit()
    return person, ideas


def test_supports_are_listed_per_theme_with_what_is_left(client: WebClient, session: Session) -> None:
    _person, ideas = _world(session, client)
    page = client.get("/supports/mine")
    assert page.status_code == 200
    section = _section(page.text, "Liège en fleurs")
    assert "3 supports per theme." in section
    mobility, parks = section[section.index("Mobilité"):section.index("Parcs")], section[section.index("Parcs"):]
    assert "2 of 3 used · 1 left" in parks
    assert "Des bancs au parc d'Avroy" in parks and "Un verger au Sart-Tilman" in parks
    assert "1 of 3 used · 2 left" in mobility and "Pistes cyclables rue Léopold" in mobility
    # The hidden idea: not named, said not to count.
    assert "bientôt cachée" not in page.text
    assert "1 support is on an idea that is no longer public: it does not count." in section
    assert page.text.count('action="/ideas/') == 3 and f'action="/ideas/{ideas["bancs"].id}/vote/withdraw"' in page.text


def test_a_closed_call_shows_supports_without_withdraw_buttons(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget 2025", phase="voting", votes_per_citizen=5)
    idea = make_idea(session, call, title="Un marché couvert")
    client.login_as(make_user(session))
    session.commit()
    _support(client, idea)
    call.phase_override = "closed"
    session.add(call)
    session.commit()
    page = client.get("/supports/mine").text
    section = _section(page, "Budget 2025")
    assert "5 supports in this call." in section
    assert "Voting is not open: these supports can no longer change." in section
    assert "1 of 5 used" in section and "left" not in section
    assert "/vote/withdraw" not in page


def test_only_my_own_supports_are_shown(client: WebClient, session: Session) -> None:
    _person, ideas = _world(session, client)
    client.cookies.clear()
    assert client.get("/?lang=en").status_code == 200
    other = make_user(session)
    client.login_as(other)
    session.commit()
    page = client.get("/supports/mine").text
    assert "You do not support any idea yet." in page and "Des bancs" not in page


def test_a_draft_call_is_never_listed(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Appel en préparation", phase="voting")
    idea = make_idea(session, call, title="Une idée d'essai")
    client.login_as(make_user(session))
    session.commit()
    _support(client, idea)
    call.phase_override = "draft"
    session.add(call)
    session.commit()
    assert "Appel en préparation" not in client.get("/supports/mine").text


def test_visitors_are_sent_to_log_in(client: WebClient) -> None:
    response = client.get("/supports/mine", follow_redirects=False)
    assert response.status_code == 303 and "/account/login" in response.headers["location"]


def test_the_menu_leads_to_my_ideas_and_my_supports(client: WebClient, session: Session) -> None:
    client.login_as(make_user(session))
    session.commit()
    page = client.get("/supports/mine").text
    nav = page.split('class="main-nav"')[1].split("</nav>")[0]
    assert '<a href="/ideas/mine">My ideas</a>' in nav
    assert '<a href="/supports/mine" aria-current="page">My supports</a>' in nav
    assert "Mes soutiens" in client.get("/supports/mine?lang=fr").text


def test_withdrawing_comes_back_to_the_call_with_its_message_there(client: WebClient, session: Session) -> None:
    _person, ideas = _world(session, client)
    mine = f"/supports/mine#call-{ideas['verger'].call_id}"
    back = client.submit(f"/ideas/{ideas['verger'].id}/vote/withdraw", {"next": mine})
    assert back.status_code == 303 and back.headers["location"] == mine
    section = _section(client.get(back.headers["location"]).text, "Liège en fleurs")
    # Without JavaScript the page opens at the call: the message is said there, not only at the top.
    assert section.startswith(">Liège en fleurs Your support is withdrawn. 3 supports per theme.")
    assert "Un verger au Sart-Tilman" not in section and "1 of 3 used · 2 left" in section
