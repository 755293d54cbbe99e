"""No race puts a ballot over budget: parallel requests through a real server (uvicorn on
loopback), each thread with its own connection, as tests/vote/test_parallel_votes.py does."""

from sqlmodel import Session, select

from app.budget.models import Ballot, BallotItem, IdeaReview
from tests.budget.helpers import make_budget_call, make_project
from tests.factories import make_user
from tests.support import LiveServer
from tests.vote.parallel import browser, in_parallel, session_token


def test_ten_parallel_additions_by_one_citizen_never_exceed_the_budget(live_server: LiveServer,
                                                                       session: Session) -> None:
    call = make_budget_call(session, total=100)
    ideas = [make_project(session, call, 30) for _ in range(10)]
    voter = make_user(session)
    token = session_token(session, voter)
    url = f"/calls/{call.slug}/ballot/add"  # read before the threads: the test session is not theirs
    ids = [str(idea.id) for idea in ideas]

    def add(i: int) -> int:
        with browser(live_server, token) as http:
            return http.post(url, data={"idea_id": ids[i]}).status_code

    statuses = in_parallel(10, add)
    assert sorted(statuses) == [200] * 3 + [409] * 7
    session.expire_all()
    ballots = session.exec(select(Ballot).where(Ballot.user_id == voter.id)).all()
    assert len(ballots) == 1
    spent = session.exec(select(IdeaReview.cost_eur).join(BallotItem, BallotItem.idea_id == IdeaReview.idea_id)
                         .where(BallotItem.ballot_id == ballots[0].id)).all()
    assert len(spent) == 3 and sum(c or 0 for c in spent) == 90


def test_the_same_project_added_ten_times_at_once_is_in_the_ballot_once(live_server: LiveServer,
                                                                        session: Session) -> None:
    call = make_budget_call(session, total=1000)
    idea = make_project(session, call, 10)
    voter = make_user(session)
    token = session_token(session, voter)
    url, idea_id = f"/calls/{call.slug}/ballot/add", str(idea.id)

    def add(_i: int) -> int:
        with browser(live_server, token) as http:
            return http.post(url, data={"idea_id": idea_id}).status_code

    assert sorted(in_parallel(10, add)) == [200] + [409] * 9
    session.expire_all()
    assert len(session.exec(select(BallotItem).where(BallotItem.idea_id == idea.id)).all()) == 1
