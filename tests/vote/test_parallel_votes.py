"""No race breaks a vote rule: parallel requests through a real server (uvicorn on loopback)."""

from sqlmodel import Session, select

from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.support import LiveServer
from tests.vote.parallel import browser, in_parallel, session_token


def test_twenty_parallel_votes_by_one_citizen_store_one_vote(live_server: LiveServer, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    token = session_token(session, voter)
    url = f"/ideas/{idea.id}/vote"  # read before the threads: the test session is not theirs

    def vote(_i: int) -> int:
        with browser(live_server, token) as http:
            return http.post(url).status_code

    statuses = in_parallel(20, vote)
    assert sorted(statuses) == [200] + [409] * 19
    session.expire_all()
    assert vote_service.count_rows(session, idea.id) == 1
    assert vote_service.vote_count(session, idea.id) == 1


def test_a_citizen_with_three_votes_firing_ten_gets_exactly_three(live_server: LiveServer, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    ideas = [make_idea(session, call) for _ in range(10)]
    voter = make_user(session)
    token = session_token(session, voter)
    urls = [f"/ideas/{idea.id}/vote" for idea in ideas]

    def vote(i: int) -> int:
        with browser(live_server, token) as http:
            return http.post(urls[i]).status_code

    statuses = in_parallel(10, vote)
    assert sorted(statuses) == [200] * 3 + [409] * 7
    session.expire_all()
    stored = session.exec(select(Vote).where(Vote.user_id == voter.id)).all()
    assert len(stored) == 3
    for idea in ideas:
        assert vote_service.vote_count(session, idea.id) == vote_service.count_rows(session, idea.id)


def test_fifty_citizens_voting_together_keep_the_counter_equal_to_the_rows(live_server: LiveServer,
                                                                          session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    tokens = [session_token(session, make_user(session)) for _ in range(50)]
    url = f"/ideas/{idea.id}/vote"

    def vote(i: int) -> int:
        with browser(live_server, tokens[i]) as http:
            return http.post(url).status_code

    statuses = in_parallel(50, vote)
    assert statuses == [200] * 50
    session.expire_all()
    assert vote_service.count_rows(session, idea.id) == 50
    assert vote_service.vote_count(session, idea.id) == 50
