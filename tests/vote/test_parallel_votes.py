"""No race breaks a vote rule: parallel requests through a real server (uvicorn on loopback)."""

import time

from sqlmodel import Session, select

from app.account.models import Role
from app.call.models import Call
from app.comment import service as comment_service
from app.follow import service as follow_service
from app.idea.models import Idea
from app.moderation import idea_decisions
from app.notify.models import Notification
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


def test_supports_given_while_moderators_restore_ideas_never_pass_the_limit(live_server: LiveServer,
                                                                            session: Session) -> None:
    """Issue 10, finding 4, under concurrency: each citizen holds 3 supports of 3, one of them on
    a hidden idea; while moderators restore the hidden ideas, every citizen supports another idea.
    Whatever the order, each ends with exactly 3 counted supports: the new support was accepted
    and the returning one set aside (and they are told), or the new one was refused."""
    call = make_call(session, phase="voting", votes_per_citizen=3)
    shared = [make_idea(session, call) for _ in range(2)]
    hidden = [make_idea(session, call) for _ in range(2)]
    newer = make_idea(session, call)
    citizens = [make_user(session) for _ in range(8)]
    moderators = [make_user(session, role=Role.moderator) for _ in hidden]
    for i, citizen in enumerate(citizens):
        for idea in (*shared, hidden[i % 2]):
            vote_service.cast_vote(session, idea=idea, call=call, user=citizen)
    for idea, moderator in zip(hidden, moderators, strict=True):
        idea_decisions.hide_idea(session, actor=moderator, idea=idea, reason="Vérification",
                                 settings=live_server.app.state.settings)
    session.commit()
    citizen_tokens = [session_token(session, c) for c in citizens]
    moderator_tokens = [session_token(session, m) for m in moderators]
    vote_url = f"/ideas/{newer.id}/vote"
    restore_urls = [f"/moderation/ideas/{idea.id}/restore" for idea in hidden]

    def act(i: int) -> int:
        if i < len(moderators):
            with browser(live_server, moderator_tokens[i], json=False) as http:
                return http.post(restore_urls[i]).status_code
        with browser(live_server, citizen_tokens[i - len(moderators)]) as http:
            return http.post(vote_url).status_code

    statuses = in_parallel(len(moderators) + len(citizens), act)
    assert statuses[:len(moderators)] == [303] * len(moderators)
    votes = statuses[len(moderators):]
    assert set(votes) <= {200, 409}
    session.expire_all()
    fresh_call = session.get(Call, call.id)
    assert fresh_call is not None
    for i, (citizen, status) in enumerate(zip(citizens, votes, strict=True)):
        returning = hidden[i % 2]
        assert vote_service.held(session, user_id=citizen.id or 0, call=fresh_call, category_id=None) == 3
        accepted = vote_service.has_voted(session, user_id=citizen.id or 0, idea_id=newer.id or 0)
        assert accepted == (status == 200)
        assert vote_service.has_voted(session, user_id=citizen.id or 0, idea_id=returning.id or 0) == (not accepted)
        told = session.exec(select(Notification).where(Notification.user_id == citizen.id,
                                                       Notification.kind == "support")).all()
        assert [n.idea_id for n in told] == ([returning.id] if accepted else [])
    for idea in (*shared, *hidden, newer):
        assert vote_service.vote_count(session, idea.id or 0) == vote_service.count_rows(session, idea.id or 0)


def test_an_administrator_lowering_the_limit_while_citizens_vote_never_leaves_anyone_over(
        live_server: LiveServer, session: Session) -> None:
    """The call's rules are checked against every support, even one arriving at that moment: the
    new limit is refused if someone holds more, and a support arriving after it is counted by it."""
    call = make_call(session, phase="voting", votes_per_citizen=3)
    ideas = [make_idea(session, call) for _ in range(3)]
    citizens = [make_user(session) for _ in range(8)]
    admin = make_user(session, role=Role.admin)
    for citizen in citizens:
        for idea in ideas[:2]:
            vote_service.cast_vote(session, idea=idea, call=call, user=citizen)
    session.commit()
    form = {"slug": call.slug, "title": call.title, "votes_per_citizen": "2", "vote_scope": "call",
            "ideas_per_citizen": "5", "report_threshold": "3"}
    for name in ("submissions_start", "voting_start", "review_start", "results_start", "closes_at"):
        form[name] = getattr(call, name).strftime("%Y-%m-%dT%H:%M")
    admin_token = session_token(session, admin)
    tokens = [session_token(session, c) for c in citizens]
    edit_url, vote_url = f"/admin/calls/{call.id}", f"/ideas/{ideas[2].id}/vote"

    def act(i: int) -> int:
        if i == 0:
            with browser(live_server, admin_token, json=False) as http:
                return http.post(edit_url, data=form).status_code
        # Spread over the administrator's request (0.1 to 1 s here): some before, during, after it.
        time.sleep(0.1 * i)
        with browser(live_server, tokens[i - 1]) as http:
            return http.post(vote_url).status_code

    statuses = in_parallel(len(citizens) + 1, act)
    assert statuses[0] in (303, 422) and set(statuses[1:]) <= {200, 409}
    session.expire_all()
    fresh = session.get(Call, call.id)
    assert fresh is not None
    assert fresh.votes_per_citizen == (2 if statuses[0] == 303 else 3)
    assert vote_service.most_held(session, call=fresh, vote_scope=fresh.vote_scope) <= fresh.votes_per_citizen
