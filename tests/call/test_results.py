"""A call in its results phase shows the ideas the city selected, and only public ones."""

from sqlmodel import Session

from app.clock import utcnow
from tests.factories import make_call, make_idea
from tests.support import WebClient


def test_results_list_public_winners_most_supported_first(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="results")
    make_idea(session, call, title="Un jardin partagé à Droixhe", winner=True, vote_count=12,
              jury_note="Retenue pour 2027 <b>vite</b>")
    make_idea(session, call, title="Des bancs sur la Batte", winner=True, vote_count=40)
    make_idea(session, call, title="Idée masquée retenue", winner=True, hidden_at=utcnow())
    make_idea(session, call, title="Brouillon retenu", winner=True, status="draft")
    make_idea(session, call, title="Idée non retenue", vote_count=99)
    session.commit()

    page = client.get(f"/calls/{call.slug}").text
    section = page.split('id="results-title"')[1].split("</section>")[0]
    assert "Idées retenues" in page
    assert section.index("Des bancs sur la Batte") < section.index("Un jardin partagé à Droixhe")
    assert "Retenue pour 2027 &lt;b&gt;vite&lt;/b&gt;" in section
    for absent in ("Idée masquée retenue", "Brouillon retenu", "Idée non retenue"):
        assert absent not in section


def test_no_results_section_before_the_results_phase(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="review")
    make_idea(session, call, title="Sélection provisoire", winner=True)
    session.commit()
    assert 'id="results-title"' not in client.get(f"/calls/{call.slug}").text


def test_odd_filter_numbers_are_ignored_not_a_500(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    make_idea(session, call, title="Une idée visible")
    session.commit()
    for params in ({"category": "99999999999"}, {"district": "²"}, {"category": "-1", "page": "2147483648"}):
        response = client.get(f"/calls/{call.slug}", params=params)
        assert response.status_code == 200, params
        assert "Une idée visible" in response.text
