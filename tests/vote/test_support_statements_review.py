"""A support written by its fused statements (app.vote.service: on PostgreSQL the standing, the
row and the counter in one WITH ... INSERT ... UPDATE; on SQLite Core statements) seen from
outside: the constraint's 409 with nothing written, the key figures kept by the triggers of
migration 0042, a support withdrawn and given again, and the page cache told of each write."""

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from app.account.models import User
from app.call.models import Call
from app.errors import AppError
from app.idea.models import Idea
from app.locks import lock_call
from app.pagecache.tracking import changes_pages
from app.pages.home import key_figures
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_idea, make_user
from tests.pages.key_figures_oracle import recount
from tests.support import WebClient
from tests.vote.parallel import voting_with_row_locks

JSON = {"Accept": "application/json"}


def _figures(session: Session) -> tuple[int, int, int]:
    kept = key_figures(session, answered_share=0, median_days=None)
    return kept.ideas, kept.participants, kept.supports


def test_a_twin_row_the_standing_does_not_see_meets_the_constraint_with_a_clean_409(
        client: WebClient, session: Session) -> None:
    """A support row the voter's standing does not count (written under another call: a repair,
    an old merge) still holds the unique constraint: the support is refused with a 409 for
    scripts and for forms, nothing is written, the counters and key figures stay as they were,
    and the next action of the same person works (no transaction left broken)."""
    call, elsewhere = make_call(session, phase="voting"), make_call(session, phase="voting")
    idea, other = make_idea(session, call), make_idea(session, call)
    voter = make_user(session)
    session.flush()
    session.add(Vote(idea_id=idea.id, user_id=voter.id, call_id=elsewhere.id))
    session.commit()
    before = _figures(session)
    client.login_as(voter)
    answer = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "Vous soutenez déjà cette idée."
    form = client.submit(f"/ideas/{idea.id}/vote", follow_redirects=False)
    assert form.status_code in (303, 409), form.text
    session.expire_all()
    assert vote_service.count_rows(session, idea.id or 0) == 1
    assert vote_service.vote_count(session, idea.id or 0) == 0
    assert _figures(session) == before
    assert client.submit(f"/ideas/{other.id}/vote", headers=JSON).status_code == 200
    session.expire_all()
    assert vote_service.vote_count(session, other.id or 0) == vote_service.count_rows(session, other.id or 0) == 1


def test_supports_withdrawn_and_given_again_keep_counters_and_key_figures_exact(
        client: WebClient, session: Session) -> None:
    """Support, withdraw, support again, in a call counting per theme with a limit of one: the
    counter equals the rows and the key figures the recount after every step, and the limit
    frees and takes its slot again."""
    call = make_call(session, phase="voting", votes_per_citizen=1, vote_scope="category")
    theme = make_category(session, call)
    idea, rival = make_idea(session, call, category=theme), make_idea(session, call, category=theme)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    def exact(count: int) -> None:
        session.expire_all()
        assert vote_service.vote_count(session, idea.id or 0) == vote_service.count_rows(session, idea.id or 0) == count
        assert _figures(session) == recount(session)

    for _ in range(2):
        answer = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
        assert answer.status_code == 200, answer.text
        assert answer.json()["vote_count"] == 1 and answer.json()["votes_left"] == 0
        exact(1)
        assert client.submit(f"/ideas/{rival.id}/vote", headers=JSON).status_code == 409
        exact(1)
        withdrawn = client.submit(f"/ideas/{idea.id}/vote/withdraw", headers=JSON)
        assert withdrawn.status_code == 200 and withdrawn.json()["vote_count"] == 0
        exact(0)
    assert client.submit(f"/ideas/{rival.id}/vote", headers=JSON).status_code == 200


def test_the_page_cache_sees_every_shape_of_write() -> None:
    """Whatever the case, the leading blanks or comments, a write is a write; a read is not."""
    writes = [
        "INSERT INTO vote (idea_id) VALUES (?) RETURNING id",
        "insert into vote (idea_id) values (1)",
        '  \n\tUPDATE "idea" SET vote_count=1',
        "WITH standing AS (SELECT 1) INSERT INTO vote SELECT 1",
        "with gone as (delete from vote where id = 1 returning idea_id) update idea set vote_count = 0",
        "WITH RECURSIVE t(n) AS (SELECT 1) DELETE FROM idea",
        "/* a note */ UPDATE idea SET vote_count = 1",
        "-- a note\nDELETE FROM vote WHERE id = 1",
        "/* a note */\nWITH x AS (SELECT 1) UPDATE idea SET vote_count = 1",
    ]
    for statement in writes:
        assert changes_pages(statement), statement
    reads = [
        "SELECT vote_count FROM idea WHERE id = 1",
        "WITH x AS (SELECT updated_at, deleted_at FROM idea) SELECT * FROM x",
        "SELECT 1 FROM idea FOR NO KEY UPDATE",
        "UPDATE user_session SET last_seen_at = 1",
        "/* a note */ INSERT INTO rate_limit_hit (k) VALUES (1)",
    ]
    for statement in reads:
        assert not changes_pages(statement), statement


WAITING = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')")


@pytest.mark.parametrize("change", ["hide the idea", "ban the voter", "move the idea to a full theme",
                                    "close the voting"])
def test_a_change_committed_while_a_support_waits_for_its_locks_is_seen(client: WebClient, session: Session,
                                                                         change: str) -> None:
    """PostgreSQL: the support reads its voter, call and idea in one locking statement; one of
    them changed by a transaction it waited for is read in its new version (READ COMMITTED's
    recheck of each locked row), so the support is refused and nothing is written."""
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: the support reads after the change")
    call = make_call(session, phase="voting", votes_per_citizen=1, vote_scope="category")
    free, full = make_category(session, call), make_category(session, call)
    idea = make_idea(session, call, category=free)
    held = make_idea(session, call, category=full)
    voter = make_user(session)
    session.flush()
    session.add(Vote(idea_id=held.id, user_id=voter.id, call_id=call.id, category_id=full.id))
    held.vote_count = 1
    session.add(held)
    session.commit()
    ids = (voter.id, call.id, idea.id)
    outcome: list[object] = []

    def support() -> None:
        try:
            with client.db.transaction() as s:
                person, its_call, its_idea = s.get(User, ids[0]), s.get(Call, ids[1]), s.get(Idea, ids[2])
                outcome.append(vote_service.cast_vote(s, idea=its_idea, call=its_call,  # type: ignore[arg-type]
                                                      user=person))  # type: ignore[arg-type]
        except AppError as exc:
            outcome.append(exc)

    with client.db.session(write=True) as other:
        if change == "ban the voter":
            other.execute(text(f"UPDATE user_account SET banned_at = now() WHERE id = {ids[0]}"))
        elif change == "close the voting":
            # An administrator moves the phase by hand (app.locks.lock_call, then the call's row).
            other.execute(sa_update(Call).where(col(Call.id) == ids[1]).values(phase_override="review"))
        elif change == "hide the idea":
            other.execute(text(f"UPDATE idea SET hidden_at = now() WHERE id = {ids[2]}"))
        else:
            other.execute(text(f"UPDATE idea SET category_id = {full.id} WHERE id = {ids[2]}"))
        supporting = threading.Thread(target=support)
        supporting.start()
        deadline = time.monotonic() + 10
        while other.execute(WAITING).scalar_one() == 0:
            assert time.monotonic() < deadline, "the support never waited"
            time.sleep(0.02)
        other.commit()
    supporting.join(10)
    assert not supporting.is_alive() and len(outcome) == 1
    assert isinstance(outcome[0], AppError), outcome[0]
    session.expire_all()
    assert vote_service.count_rows(session, ids[2]) == vote_service.vote_count(session, ids[2]) == 0


def test_a_withdrawal_checked_open_keeps_the_phase_until_it_is_written(client: WebClient, session: Session,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a withdrawal that found voting open holds the call's rules (its shared lock,
    as a support does) until it commits: an administrator closing the voting meanwhile waits for
    it, so no support is taken back after the close was committed (the results would then be
    counted on supports that were still moving)."""
    call, idea, voter = voting_with_row_locks(client, session)
    session.flush()
    session.add(Vote(idea_id=idea.id, user_id=voter.id, call_id=call.id))
    idea.vote_count = 1
    session.add(idea)
    session.commit()
    call_id, idea_id = call.id or 0, idea.id or 0
    # The supports the close found once it held the call: 1 if it went ahead of the withdrawal
    # (which then took a support back from a closed vote), 0 if it waited for it. Read under the
    # lock rather than by when the close ended: it commits a moment after the withdrawal does,
    # often before the answer is read here.
    closed: list[int] = []
    closings: list[threading.Thread] = []

    def close_voting() -> None:
        with client.db.transaction() as admin:
            lock_call(admin, call_id)
            found = vote_service.count_rows(admin, idea_id)
            admin.execute(sa_update(Call).where(col(Call.id) == call_id).values(phase_override="review"))
        closed.append(found)

    checked = vote_service.accepts_votes

    def open_then_closed(*args: object, **kwargs: object) -> bool:
        answer = checked(*args, **kwargs)  # type: ignore[arg-type]
        closing = threading.Thread(target=close_voting)
        closing.start()
        closings.append(closing)
        closing.join(1.0)  # the close commits now unless the withdrawal holds it back
        return answer

    monkeypatch.setattr(vote_service, "accepts_votes", open_then_closed)
    client.login_as(voter)
    answer = client.submit(f"/ideas/{idea.id}/vote/withdraw", headers=JSON)
    assert answer.status_code == 200, answer.text
    for closing in closings:
        closing.join(10)
    assert closings and closed == [0], "the voting closed while a withdrawal it did not wait for was being written"
    session.expire_all()
    assert vote_service.count_rows(session, idea.id or 0) == vote_service.vote_count(session, idea.id or 0) == 0


def test_the_idea_loaded_in_the_session_shows_the_count_the_support_wrote(session: Session) -> None:
    """The counter moves by a Core UPDATE the ORM does not see: the Idea the request loaded must
    still show the new count to whatever reads it after the support in the same session (a
    page rendered from it, a notification's text), not the count from before."""
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    first, second = make_user(session), make_user(session)
    session.commit()

    state = vote_service.cast_vote(session, idea=idea, call=call, user=first)
    assert state.vote_count == idea.vote_count == 1
    vote_service.cast_vote(session, idea=idea, call=call, user=second)
    assert idea.vote_count == 2
    vote_service.withdraw_vote(session, idea=idea, call=call, user=first)
    assert idea.vote_count == 1
    session.commit()
    session.expire_all()
    assert idea.vote_count == vote_service.count_rows(session, idea.id or 0) == 1
