"""Votes through the pages and as a script: rules, messages, counters, following."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.clock import utcnow
from app.follow import service as follow_service
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient

JSON = {"Accept": "application/json"}


def votes_of(session: Session, idea_id: int) -> tuple[int, int]:
    """(rows, counter column) for an idea."""
    session.expire_all()
    return vote_service.count_rows(session, idea_id), vote_service.vote_count(session, idea_id)


def test_citizen_supports_an_idea_then_withdraws(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    response = client.submit(f"/ideas/{idea.id}/vote")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#vote"
    assert votes_of(session, idea.id) == (1, 1)
    # Supporting is not following: that choice is the voter's own (issue 10, finding 19).
    assert not follow_service.is_following(session, idea_id=idea.id, user_id=voter.id)

    response = client.submit(f"/ideas/{idea.id}/vote/withdraw")
    assert response.status_code == 303
    assert votes_of(session, idea.id) == (0, 0)
    # Withdrawing twice is harmless and never makes the counter negative.
    client.submit(f"/ideas/{idea.id}/vote/withdraw")
    assert votes_of(session, idea.id) == (0, 0)


def test_second_vote_gets_a_clear_message_and_409_for_scripts(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    first = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
    assert first.status_code == 200
    assert first.json()["vote_count"] == 1
    assert first.json()["votes_left"] == call.votes_per_citizen - 1
    assert first.json()["count_text"] == "1 soutien"

    again = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
    assert again.status_code == 409
    assert again.json()["error"] == "Vous soutenez déjà cette idée."

    # The same refusal through the form: a message on the idea page, not an error page.
    form = client.submit(f"/ideas/{idea.id}/vote")
    assert form.status_code == 303
    assert form.headers["location"] == f"/ideas/{idea.id}#vote"
    assert votes_of(session, idea.id) == (1, 1)


def test_limit_per_call_shows_what_is_left_and_refuses_one_more(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=2)
    ideas = [make_idea(session, call) for _ in range(3)]
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    lefts = [client.submit(f"/ideas/{i.id}/vote", headers=JSON).json().get("votes_left") for i in ideas[:2]]
    assert lefts == [1, 0]
    refused = client.submit(f"/ideas/{ideas[2].id}/vote", headers=JSON)
    assert refused.status_code == 409
    assert "Vous avez utilisé tous vos soutiens pour cet appel (2)" in refused.json()["error"]
    assert votes_of(session, ideas[2].id) == (0, 0)

    # Withdrawing one frees a vote.
    client.submit(f"/ideas/{ideas[0].id}/vote/withdraw", headers=JSON)
    assert client.submit(f"/ideas/{ideas[2].id}/vote", headers=JSON).status_code == 200


def test_limit_per_category_counts_each_theme_apart(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=1, vote_scope="category")
    mobility, green = make_category(session, call), make_category(session, call)
    a1, a2 = make_idea(session, call, category=mobility), make_idea(session, call, category=mobility)
    b1 = make_idea(session, call, category=green)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    assert client.submit(f"/ideas/{a1.id}/vote", headers=JSON).status_code == 200
    refused = client.submit(f"/ideas/{a2.id}/vote", headers=JSON)
    assert refused.status_code == 409
    assert "pour ce thème (1)" in refused.json()["error"]
    assert client.submit(f"/ideas/{b1.id}/vote", headers=JSON).status_code == 200
    session.expire_all()
    assert len(session.exec(select(Vote).where(Vote.user_id == voter.id)).all()) == 2


def test_votes_are_refused_outside_the_voting_phase(client: WebClient, session: Session) -> None:
    voter = make_user(session)
    closed = {phase: make_idea(session, make_call(session, phase=phase)) for phase in ("submissions", "review")}
    early = make_idea(session, make_call(session, phase="submissions", voting_during_submissions=True))
    session.commit()
    client.login_as(voter)

    for idea in closed.values():
        response = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
        assert response.status_code == 409
        assert response.json()["error"] == "Le vote n’est pas ouvert pour cet appel."
        assert votes_of(session, idea.id) == (0, 0)
    # A call may open the vote during submissions.
    assert client.submit(f"/ideas/{early.id}/vote", headers=JSON).status_code == 200


def test_a_vote_after_the_phase_ended_is_refused_and_cannot_be_withdrawn(client: WebClient,
                                                                          session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert client.submit(f"/ideas/{idea.id}/vote", headers=JSON).status_code == 200

    call.review_start = utcnow() - timedelta(seconds=1)  # voting ended a second ago
    session.add(call)
    session.commit()
    assert client.submit(f"/ideas/{idea.id}/vote/withdraw", headers=JSON).status_code == 409
    assert votes_of(session, idea.id) == (1, 1)


def test_unverified_anonymous_and_hidden_are_refused(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    hidden = make_idea(session, call, hidden_at=utcnow())
    draft = make_idea(session, call, status="draft")
    unverified = make_user(session, verified=False)
    verified = make_user(session)
    session.commit()

    anonymous = client.submit(f"/ideas/{idea.id}/vote")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/account/login?next=")
    assert client.submit(f"/ideas/{idea.id}/vote", headers=JSON).status_code == 401

    client.login_as(unverified)
    response = client.submit(f"/ideas/{idea.id}/vote")
    assert response.status_code == 403
    assert "confirmer votre adresse e-mail" in response.text
    assert client.submit(f"/ideas/{idea.id}/vote", headers=JSON).status_code == 403

    client.login_as(verified)
    for invisible in (hidden, draft):
        assert client.submit(f"/ideas/{invisible.id}/vote").status_code == 404
        assert client.submit(f"/ideas/{invisible.id}/vote", headers=JSON).status_code == 404
    assert client.submit("/ideas/999999/vote").status_code == 404
    for target in (idea, hidden, draft):
        assert votes_of(session, target.id) == (0, 0)


def test_a_vote_without_csrf_token_is_refused(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    response = client.post(f"/ideas/{idea.id}/vote", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert votes_of(session, idea.id) == (0, 0)


def test_the_unique_constraint_answers_a_conflict_not_a_500(client: WebClient, session: Session,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a twin request slip past the check, the database's constraint still holds the line."""
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.add(Vote(idea_id=idea.id, user_id=voter.id, call_id=call.id))
    session.commit()
    client.login_as(voter)
    monkeypatch.setattr(vote_service, "has_voted", lambda *_a, **_k: False)
    response = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
    assert response.status_code == 409
    assert response.json()["error"] == "Vous soutenez déjà cette idée."
    session.expire_all()
    assert vote_service.count_rows(session, idea.id) == 1
    assert vote_service.vote_count(session, idea.id) == 0  # the failed attempt moved nothing


def test_a_vote_for_an_idea_out_of_the_running_frees_the_voter(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=1)
    first, second = make_idea(session, call), make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert client.submit(f"/ideas/{first.id}/vote", headers=JSON).status_code == 200
    assert client.submit(f"/ideas/{second.id}/vote", headers=JSON).status_code == 409
    first.hidden_at = utcnow()  # hidden after reports: the voter can no longer see it
    session.add(first)
    session.commit()
    assert client.submit(f"/ideas/{second.id}/vote", headers=JSON).status_code == 200
