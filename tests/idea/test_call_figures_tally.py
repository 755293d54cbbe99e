"""A call's figures read from the tally kept by triggers (migration 0044) equal a count of its
public ideas (tests/idea/call_figures_oracle.py, the counting code of before) after every kind of
write, and so does the unfiltered list's total, which reads the same tally; reading them reads no
idea; the migration's backfill equals the count; a visitor of a call page sees the true figures and
total in every phase, right after a support. (The triggers' presence at the head of the chain:
tests/pages/test_key_figures_tallies.py.)"""

import re
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.account.privacy import delete_account
from app.call.models import Call
from app.clock import utcnow
from app.db import Database
from app.idea.models import Idea, IdeaStatus
from app.idea.queries import CallFigures, IdeaFilters, call_figures, idea_page
from app.idea.service import IdeaInput, create_idea, submit_idea
from app.locks import lock_ideas
from app.moderation import idea_decisions as decisions
from app.settings import Settings
from app.vote.service import cast_vote, withdraw_vote
from tests.factories import DEFAULT_PASSWORD, make_call, make_idea, make_user
from tests.idea.call_figures_oracle import recount
from tests.pages.test_key_figures_tallies import backfilled_after_writes, random_writes
from tests.support import WebClient, counting
from tests.support_locks import in_thread


def _figures(session: Session, call_id: int) -> tuple[int, int, int]:
    figures = call_figures(session, call_id)
    return figures.ideas, figures.supports, figures.answered


def _counted(session: Session, call_id: int) -> tuple[int, int, int]:
    figures = recount(session, call_id)
    return figures.ideas, figures.supports, figures.answered


def _list_total(session: Session, call_id: int) -> int:
    call = session.get(Call, call_id)
    assert call is not None
    return idea_page(session, call, IdeaFilters()).total


def _check_every_call(session: Session, what: str) -> dict[int, tuple[int, int, int]]:
    """Each call's figures and unfiltered list total equal a count; returns the figures by call."""
    found = {}
    for call_id in session.exec(select(col(Call.id))).all():
        counted = _counted(session, call_id)
        assert _figures(session, call_id) == counted, f"{what}: call {call_id}"
        assert _list_total(session, call_id) == counted[0], f"{what}: call {call_id}'s list"
        found[call_id] = counted
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_call_figures_equal_a_count_after_every_kind_of_write(db: Database, settings: Settings, seed: int) -> None:
    seen: list[dict[int, tuple[int, int, int]]] = []
    done = random_writes(db, settings, seed, 90,
                         check=lambda session, what: seen.append(_check_every_call(session, what)))
    # The writes moved every figure of some call up and down (a tally never written would fail).
    for index in range(3):
        values = [figures[index] for step in seen for figures in step.values()]
        assert max(values) > 0
        assert any(later[c][index] < earlier[c][index] for earlier, later in zip(seen, seen[1:], strict=False)
                   for c in earlier if c in later), index
    kinds = Counter(step.split(":")[0] for step in done)
    assert kinds["supported"] and kinds["answered"] and kinds["moved to another call"], kinds


def test_each_write_of_the_platform_moves_the_call_figures(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        admin = make_user(s, role=Role.admin)
        call = make_call(s, phase="voting", premoderation=True, votes_per_citizen=10)
        other = make_call(s, phase="voting", votes_per_citizen=10)
        author, first, second = make_user(s), make_user(s), make_user(s)
        ids = {"call": call.id, "other": other.id, "admin": admin.id, "author": author.id, "first": first.id,
               "second": second.id}
    steps: list[tuple[str, tuple[int, int, int] | None, tuple[int, int, int] | None]] = []

    def step(what: str, mine: tuple[int, int, int] | None, theirs: tuple[int, int, int] | None = None) -> None:
        """`mine` and `theirs`: what the call and the other call show now (None: not predicted)."""
        with db.autocommit_session() as reader:
            shown = _check_every_call(reader, what)
        assert mine is None or shown[ids["call"]] == mine, (what, shown)
        assert theirs is None or shown[ids["other"]] == theirs, (what, shown)
        steps.append((what, mine, theirs))

    def get(s: Session, model: type, key: str) -> object:
        found = s.get(model, ids[key])
        assert found is not None
        return found

    data = IdeaInput(title="Des arbres rue Saint-Gilles", body_md="Planter des arbres le long de la rue.",
                     language="fr")
    with db.transaction() as s:
        idea = create_idea(s, settings, get(s, Call, "call"), get(s, User, "author"), data=data,
                           submit=False)
        ids["idea"] = idea.id
    step("draft", (0, 0, 0), (0, 0, 0))
    with db.transaction() as s:
        submit_idea(s, get(s, Call, "call"), get(s, Idea, "idea"), get(s, User, "author"), settings=settings)
    step("submitted, awaiting moderation", (0, 0, 0))
    with db.transaction() as s:
        decisions.approve_idea(s, actor=get(s, User, "admin"), idea=get(s, Idea, "idea"), settings=settings)
    step("published", (1, 0, 0))
    with db.transaction() as s:
        ids["second_idea"] = make_idea(s, get(s, Call, "call")).id  # inserted published
        ids["elsewhere"] = make_idea(s, get(s, Call, "other")).id
    step("inserted published", (2, 0, 0), (1, 0, 0))
    for voter, key in (("first", "idea"), ("second", "idea"), ("first", "second_idea")):
        with db.transaction() as s:
            cast_vote(s, idea=get(s, Idea, key), call=get(s, Call, "call"), user=get(s, User, voter))
    step("three supports", (2, 3, 0))
    with db.transaction() as s:
        withdraw_vote(s, idea=get(s, Idea, "idea"), call=get(s, Call, "call"), user=get(s, User, "second"))
    step("a support withdrawn", (2, 2, 0))
    with db.transaction() as s:
        decisions.answer_idea(s, actor=get(s, User, "admin"), idea=get(s, Idea, "idea"),
                              answer_status="accepted", answer_md="La ville plantera ces arbres.", settings=settings)
    step("answered", (2, 2, 1))
    with db.transaction() as s:
        decisions.answer_idea(s, actor=get(s, User, "admin"), idea=get(s, Idea, "idea"),
                              answer_status="under_study", answer_md="À l'étude.", settings=settings)
    step("answer replaced", (2, 2, 1))
    with db.transaction() as s:  # no service takes an answer back: a core UPDATE
        s.execute(sa_update(Idea).where(col(Idea.id) == ids["idea"]).values(answer_status=None))
    step("answer removed", (2, 2, 0))
    with db.transaction() as s:
        decisions.hide_idea(s, actor=get(s, User, "admin"), idea=get(s, Idea, "second_idea"),
                            reason="Hors sujet", settings=settings)
    step("hidden", (1, 1, 0))
    with db.transaction() as s:
        decisions.restore_idea(s, actor=get(s, User, "admin"), idea=get(s, Idea, "second_idea"),
                               settings=settings)
    step("restored", (2, 2, 0))
    with db.transaction() as s:
        decisions.merge_ideas(s, actor=get(s, User, "admin"), source=get(s, Idea, "second_idea"),
                              target=get(s, Idea, "idea"), note="Doublon", settings=settings)
    step("merged (both public, the supports moved to the kept idea)", (2, 1, 0))
    with db.transaction() as s:  # no service moves an idea to another call: a core UPDATE
        s.execute(sa_update(Idea).where(col(Idea.id) == ids["idea"]).values(call_id=ids["other"]))
    # The kept idea holds the merged idea's supports but the one both had from `first`.
    step("moved to the other call", (1, 0, 0), (2, 1, 0))
    with db.transaction() as s:
        delete_account(s, settings, get(s, User, "first"), password=DEFAULT_PASSWORD)
    step("a supporter's account deleted", (1, 0, 0), (2, 0, 0))
    with db.transaction() as s:
        s.delete(get(s, Idea, "idea"))
    step("idea deleted", None, (1, 0, 0))
    with db.transaction() as s:  # not a path of the platform: a call deleted by hand
        s.execute(sa.delete(Call).where(col(Call.id) == ids["other"]))
    with db.autocommit_session() as reader:
        assert _figures(reader, ids["other"]) == (0, 0, 0)
    assert len(steps) == 15


def test_reading_a_calls_figures_reads_no_idea(db: Database) -> None:
    with db.transaction() as s:
        call = make_call(s, phase="voting", votes_per_citizen=5)
        ideas = [make_idea(s, call) for _ in range(3)] + [make_idea(s, call, status="draft")]
        make_idea(s, make_call(s, phase="voting"))
        voter = make_user(s)
        for idea in ideas[:2]:
            cast_vote(s, idea=idea, call=call, user=voter)
        s.execute(sa_update(Idea).where(col(Idea.id) == ideas[0].id).values(answer_status="accepted"))
        call_id = call.id
    with db.autocommit_session() as s:
        with counting(db.engine) as seen:
            read = call_figures(s, call_id)
        assert read == recount(s, call_id) == CallFigures(3, 2, 1) and read.answered_percent == 33
    assert len(seen) == 1 and not re.search(r"\bidea\b", seen[0]), seen


def test_the_migration_backfill_equals_a_count(tmp_path: Path, empty_database: str) -> None:
    answers = sa_update(Idea).where(col(Idea.id) % 3 == 0).values(answer_status="rejected")
    with (backfilled_after_writes(tmp_path, empty_database, "0043", answers) as filled,
          filled.autocommit_session() as s):
        found = _check_every_call(s, "backfilled")
        assert len(found) == 2 and all(min(figures) > 0 for figures in found.values()), found


def _seen(page: str) -> tuple[int, tuple[int, int, int]]:
    """What a visitor reads: the list's total, and the call's figures in its preview's image
    description ("12 idées · 340 soutiens · 75 % ont une réponse")."""
    total = re.search(r'<span class="count">\((\d+)\)</span>', page)
    alt = re.search(r'<meta property="og:image:alt" content="[^"]*?: (\d+)\D+?(\d+)\D+?(\d+)', page)
    assert total is not None and alt is not None, page[:2000]
    return int(total.group(1)), (int(alt.group(1)), int(alt.group(2)), int(alt.group(3)))


@pytest.mark.parametrize("phase", ["submissions", "voting", "review", "results", "closed"])
def test_a_visitor_sees_the_true_figures_and_total_in_every_phase(client: WebClient, session: Session,
                                                                  phase: str) -> None:
    call = make_call(session, phase=phase, voting_during_submissions=True, votes_per_citizen=10)
    public = [make_idea(session, call) for _ in range(3)]
    public[0].answer_status, public[0].answered_at = "accepted", utcnow()
    public[1].shortlisted, public[1].winner = True, True  # the results' selection, public too
    public.append(make_idea(session, call, status="merged", merged_into_id=public[2].id))
    make_idea(session, call, hidden_at=utcnow(), winner=True, shortlisted=True)  # selected, then hidden
    make_idea(session, call, status=IdeaStatus.draft)
    make_idea(session, call, status=IdeaStatus.rejected)
    make_idea(session, call, status=IdeaStatus.submitted)
    make_idea(session, make_call(session, phase=phase))  # another call's
    voter, moderator = make_user(session), make_user(session, role=Role.moderator)
    session.commit()
    path = f"/calls/{call.slug}"
    visitor = WebClient(client.app, base_url="http://testserver")
    assert _seen(visitor.get(path).text) == (4, (4, 0, 25))
    client.login_as(voter)
    if phase in ("submissions", "voting"):
        assert client.submit(f"/ideas/{public[1].id}/vote").status_code == 303
        assert _seen(visitor.get(path).text) == (4, (4, 1, 25))  # the support, on the next visit
        assert client.submit(f"/ideas/{public[1].id}/vote/withdraw").status_code == 303
        assert _seen(visitor.get(path).text) == (4, (4, 0, 25))
    else:  # refused (a form's refusal is a redirect with a message): nothing moves
        client.submit(f"/ideas/{public[1].id}/vote")
        assert _seen(visitor.get(path).text) == (4, (4, 0, 25))
    client.login_as(moderator)
    decisions.hide_idea(session, actor=moderator, idea=public[0], reason="Hors sujet", settings=client.settings)
    session.commit()
    assert _seen(visitor.get(path).text) == (3, (3, 0, 0))


def test_a_support_never_deadlocks_with_a_writer_of_several_ideas_of_its_call(db: Database) -> None:
    # Migration 0044's lock order. A statement writing several ideas (an account's deletion
    # withdrawing its supports: one UPDATE of their counters) fires each idea's triggers in turn,
    # holding what each took: the first idea's key figures shard (0042), then its call's row
    # (0044), then the next idea's. Here its rows are written in two statements, which take the
    # same locks in the same order, so that a support can come in between. With the calls' rows
    # sharded modulo 64, the support (of an idea 64 ids further in the same call) held its key
    # figures shard and waited for the call's row the writer held, while the writer waited for
    # that shard (its next idea's, 256 ids further): PostgreSQL failed one of them.
    if db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: no row locks to order")
    with db.transaction() as s:
        call, elsewhere = make_call(s, phase="voting", votes_per_citizen=5), make_call(s, phase="voting")
        first = make_idea(s, call)
        assert first.id is not None
        s.execute(sa.text("SELECT setval(pg_get_serial_sequence('idea', 'id'), :v)"), {"v": first.id + 63})
        supported = make_idea(s, call)  # same shard modulo 64 as `first`, another modulo 256
        s.execute(sa.text("SELECT setval(pg_get_serial_sequence('idea', 'id'), :v)"), {"v": first.id + 64 + 255})
        last = make_idea(s, elsewhere)  # the key figures shard of `supported`
        assert (supported.id, last.id) == (first.id + 64, first.id + 320)
        supporter = make_user(s)
        ids = {"call": call.id, "first": first.id, "supported": supported.id, "last": last.id,
               "supporter": supporter.id}
    move = sa.text("UPDATE idea SET vote_count = vote_count + 1 WHERE id = :id")

    def support() -> None:
        with db.transaction() as s:
            cast_vote(s, idea=s.get(Idea, ids["supported"]), call=s.get(Call, ids["call"]),  # type: ignore[arg-type]
                      user=s.get(User, ids["supporter"]))  # type: ignore[arg-type]

    with db.session(write=True) as writer:
        lock_ideas(writer, [ids["first"], ids["last"]])  # as a writer of several ideas does first
        writer.execute(move, {"id": ids["first"]})  # its key figures shard, then its call's row
        thread, errors = in_thread(support)
        thread.join(3)  # before the fix, the support waited here for the call's row
        writer.execute(move, {"id": ids["last"]})  # the shard the support took, if it has not ended
        writer.commit()
    thread.join(20)
    assert not thread.is_alive() and errors == []
    with db.autocommit_session() as s:
        assert _figures(s, ids["call"]) == _counted(s, ids["call"]) == (2, 2, 0)
