"""No race breaks a vote rule: parallel requests through a real server (uvicorn on loopback)."""

from sqlmodel import Session, select

from app.comment import service as comment_service
from app.follow import service as follow_service
from app.idea.models import Idea
from app.report.models import Report
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


def test_votes_comments_follows_and_reports_together_never_deadlock(live_server: LiveServer,
                                                                     session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=50)
    idea = make_idea(session, call)
    make_user(session, role="moderator")
    people = [make_user(session) for _ in range(6)]
    tokens = [session_token(session, person) for person in people]
    base = f"/ideas/{idea.id}"
    actions = [("/vote", {}), ("/comments", {"body": "Un avis parmi d'autres"}), ("/follow", {}),
               ("/unfollow", {}), ("/report", {"reason": "spam"}), ("/vote/withdraw", {})]

    def act(i: int) -> int:
        path, data = actions[i % len(actions)]
        with browser(live_server, tokens[(i // len(actions)) % len(tokens)]) as http:
            return http.post(base + path, data=data).status_code

    statuses = in_parallel(36, act)
    assert 500 not in statuses
    assert set(statuses) <= {200, 201, 409}
    session.expire_all()
    stored = session.get(Idea, idea.id)
    assert stored is not None
    assert stored.vote_count == vote_service.count_rows(session, idea.id)
    assert stored.comment_count == comment_service.count_rows(session, idea.id) == 6
    assert stored.follower_count == follow_service.follower_count(session, idea.id)
    assert stored.report_count == len(session.exec(select(Report).where(Report.target_id == idea.id)).all()) == 6
