"""Publishing a call's results cannot be undone: the review page leads to a confirmation that
names the winners and who is told (issue 15); a bare POST changes nothing."""

from sqlmodel import Session

from app.call.models import Call
from tests.factories import make_idea, make_user
from tests.moderation.helpers import world
from tests.support import WebClient


def _phase_override(session: Session, call_id: int) -> str | None:
    session.expire_all()
    call = session.get(Call, call_id)
    assert call is not None
    return call.phase_override


def test_the_confirmation_names_the_selection_and_a_bare_post_changes_nothing(client: WebClient,
                                                                             session: Session) -> None:
    w = world(session, phase="review", status="published")
    winner = make_idea(session, w.call, status="published", title="Un potager partagé", vote_count=41,
                       winner=True, shortlisted=True)
    make_idea(session, w.call, status="published", title="Une fresque <b>murale</b>", shortlisted=True)
    make_idea(session, w.call, status="published", title="Pas retenue")
    session.commit()
    client.login_as(w.moderator)

    review = client.get(f"/moderation/calls/{w.call.id}/review").text
    assert f'href="/moderation/calls/{w.call.id}/publish-results"' in review
    assert f'action="/moderation/calls/{w.call.id}/publish-results"' not in review  # no one-tap form

    page = client.get(f"/moderation/calls/{w.call.id}/publish-results")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "1 idée retenue" in text and "Un potager partagé · 41 soutiens" in text
    assert "1 autre idée présélectionnée" in text and "Une fresque &lt;b&gt;murale&lt;/b&gt;" in text
    assert "Pas retenue" not in text and "La publication est définitive" in text
    assert _phase_override(session, w.call.id) is None

    response = client.submit(f"/moderation/calls/{w.call.id}/publish-results")
    assert response.status_code == 303
    assert response.headers["location"] == f"/moderation/calls/{w.call.id}/publish-results"
    assert _phase_override(session, w.call.id) is None

    assert client.submit(f"/moderation/calls/{w.call.id}/publish-results", {"confirm": "yes"}).status_code == 303
    assert _phase_override(session, w.call.id) == "results"
    assert winner.id is not None


def test_without_a_winner_the_confirmation_says_what_is_missing(client: WebClient, session: Session) -> None:
    w = world(session, phase="review", status="published")
    session.commit()
    client.login_as(w.moderator)
    text = client.get(f"/moderation/calls/{w.call.id}/publish-results").text
    assert "Désignez au moins une idée retenue" in text and 'name="confirm"' not in text


def test_citizens_cannot_reach_it(client: WebClient, session: Session) -> None:
    w = world(session, phase="review", status="published")
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    assert client.get(f"/moderation/calls/{w.call.id}/publish-results").status_code == 403
