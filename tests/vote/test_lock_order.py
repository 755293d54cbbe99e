"""A support takes its locks in app.locks' one order (the person, then the call, then the idea),
now in one statement: a support waiting for its idea already holds its voter and its call, so
it never waits for a person while it holds an idea (which would deadlock against a moderation
decision locking the idea's supporters first, app.vote.limits)."""

import threading
import time

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.account.models import User
from app.call.models import Call
from app.idea.models import Idea
from app.locks import lock_idea
from app.vote import service as vote_service
from tests.support import WebClient
from tests.vote.parallel import voting_with_row_locks

WAITING = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')")


def _held(client: WebClient, statement: str) -> bool:
    """Whether another transaction holds a lock that `statement` (… NOWAIT) would wait for."""
    with client.db.session(write=True) as probe:
        try:
            probe.execute(text(statement))
        except OperationalError as exc:
            assert "could not obtain lock" in str(exc)
            return True
        finally:
            probe.rollback()
    return False


def test_a_support_waiting_for_its_idea_holds_its_voter_and_its_call(client: WebClient, session: Session) -> None:
    call, idea, voter = voting_with_row_locks(client, session)
    session.commit()
    ids = (voter.id, call.id, idea.id)
    answers: list[object] = []

    def support() -> None:
        with client.db.transaction() as s:
            person, its_call, its_idea = s.get(User, ids[0]), s.get(Call, ids[1]), s.get(Idea, ids[2])
            answers.append(vote_service.cast_vote(s, idea=its_idea, call=its_call, user=person))  # type: ignore[arg-type]

    with client.db.session(write=True) as moderator:
        lock_idea(moderator, ids[2])  # a decision on the idea, under way
        supporting = threading.Thread(target=support)
        supporting.start()
        deadline = time.monotonic() + 10
        while moderator.execute(WAITING).scalar_one() == 0:  # the support queues behind the decision
            assert time.monotonic() < deadline, "the support never waited for the idea"
            time.sleep(0.02)
        assert _held(client, f"SELECT id FROM user_account WHERE id = {ids[0]} FOR NO KEY UPDATE NOWAIT")
        assert _held(client, f"SELECT id FROM call WHERE id = {ids[1]} FOR NO KEY UPDATE NOWAIT")
        moderator.rollback()
    supporting.join(10)
    assert not supporting.is_alive() and len(answers) == 1
    session.expire_all()
    assert vote_service.vote_count(session, ids[2]) == vote_service.count_rows(session, ids[2]) == 1
