"""Withdrawing an idea is irreversible and costs its supporters their supports: it goes through a
page of its own that names those consequences (issue 15), never one tap on the idea page."""

from sqlmodel import Session

from app.call.phases import Phase
from app.idea.models import Idea, IdeaStatus
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def _status(session: Session, idea_id: int) -> IdeaStatus:
    session.expire_all()
    idea = session.get(Idea, idea_id)
    assert idea is not None
    return idea.status


def test_the_idea_page_leads_to_a_confirmation_naming_the_supports_lost(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des bancs à l'ombre", vote_count=12)
    session.commit()
    client.login_as(author)

    page = client.get(f"/ideas/{idea.id}").text
    assert f'href="/ideas/{idea.id}/withdraw"' in page  # a link to the confirmation, not a form that acts
    assert f'action="/ideas/{idea.id}/withdraw"' not in page

    confirmation = client.get(f"/ideas/{idea.id}/withdraw")
    assert confirmation.status_code == 200
    text = " ".join(confirmation.text.split())
    assert "12 personnes soutiennent cette idée" in text
    assert "Des bancs à l&#39;ombre" in text
    assert _status(session, idea.id) == IdeaStatus.published  # looking changes nothing

    # A bare POST (an old page's one-tap button, or a forged one) only leads to the confirmation.
    response = client.submit(f"/ideas/{idea.id}/withdraw")
    assert response.status_code == 303 and response.headers["location"] == f"/ideas/{idea.id}/withdraw"
    assert _status(session, idea.id) == IdeaStatus.published

    response = client.submit(f"/ideas/{idea.id}/withdraw", {"confirm": "yes"})
    assert response.status_code == 303 and response.headers["location"] == f"/ideas/{idea.id}"
    assert _status(session, idea.id) == IdeaStatus.withdrawn
    assert client.get(f"/ideas/{idea.id}/withdraw").status_code == 403  # nothing left to withdraw


def test_a_draft_says_it_will_not_be_published(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.submissions)
    author = make_user(session)
    idea = make_idea(session, call, author, status="draft")
    session.commit()
    client.login_as(author)
    text = " ".join(client.get(f"/ideas/{idea.id}/withdraw").text.split())
    assert "ne sera pas publiée" in text and "soutiennent" not in text


def test_only_the_author_reaches_the_confirmation(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    idea = make_idea(session, call, make_user(session))
    other = make_user(session)
    session.commit()
    visitor = client.get(f"/ideas/{idea.id}/withdraw", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/account/login")
    client.login_as(other)
    assert client.get(f"/ideas/{idea.id}/withdraw").status_code == 403
    assert client.submit(f"/ideas/{idea.id}/withdraw", {"confirm": "yes"}).status_code == 403
    assert _status(session, idea.id) == IdeaStatus.published
