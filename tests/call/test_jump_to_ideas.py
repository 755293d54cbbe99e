"""The call page's first actions (issue 15): on a phone the rules, calendar and description come
before the cards, so the header offers one tap straight to the ideas, counted."""

from sqlmodel import Session

from tests.factories import make_call, make_idea
from tests.support import WebClient


def test_the_header_leads_straight_to_the_ideas(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    for n in range(3):
        make_idea(session, call, title=f"Idée {n}")
    session.commit()
    page = client.get(f"/calls/{call.slug}?lang=fr").text
    header = page.split('<header class="call-header">')[1].split("</header>")[0]
    assert '<a class="button button-secondary" href="#ideas">Voir les idées (3)</a>' in header
    assert page.count('id="ideas"') == 1
    assert '<section aria-labelledby="ideas-title" class="call-ideas" id="ideas">' in page


def test_no_link_when_there_is_no_idea_yet(client: WebClient, session: Session) -> None:
    call = make_call(session)
    session.commit()
    assert 'href="#ideas"' not in client.get(f"/calls/{call.slug}").text
