"""The home page's key figures read from the tallies kept by triggers (migration 0042) equal a
full recount (tests/pages/key_figures_oracle.py, the counting code of before) after every write a
person, a moderator or a bulk statement can make; reading them reads neither `vote` nor `idea`;
the migration's backfill equals the recount; the triggers exist at the head of the chain."""

import importlib.util
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import links, migrate
from app.account.models import Role, User
from app.account.privacy import delete_account
from app.call.models import Call
from app.clock import utcnow
from app.db import Database
from app.errors import AppError
from app.idea.models import AnswerStatus, Idea, IdeaStatus
from app.idea.service import IdeaInput, create_idea, submit_idea, withdraw_idea
from app.main import ROUTERS
from app.moderation import idea_decisions as decisions
from app.pages.home import key_figures
from app.settings import Settings
from app.vote.models import Vote
from app.vote.service import cast_vote, withdraw_vote
from tests.factories import DEFAULT_PASSWORD, make_call, make_idea, make_user
from tests.pages.key_figures_oracle import recount
from tests.support import counting, delete_account_row, make_settings

STEPS = 90
VERSIONS = Path(__file__).resolve().parents[2] / "app" / "migrations" / "versions"


def _read(session: Session) -> tuple[int, int, int]:
    figures = key_figures(session, answered_share=0, median_days=None)
    return figures.ideas, figures.participants, figures.supports


def _kept(session: Session) -> tuple[int, int, int]:
    """The sums of the rows the triggers keep, read directly: (ideas, participants, supports)."""
    row = session.execute(sa.text("SELECT coalesce(sum(ideas), 0), coalesce(sum(participants), 0), "
                                  "coalesce(sum(supports), 0) FROM key_figures_tally")).one()
    return int(row[0]), int(row[1]), int(row[2])


def _pick(session: Session, model: Any, *where: Any) -> Any:
    rows = list(session.exec(select(model).where(*where).order_by(col(model.id))).all())
    return random.choice(rows) if rows else None


def random_writes(db: Database, settings: Settings, seed: int, steps: int,
                  check: Callable[[Session, str], None] | None = None) -> list[str]:
    """`steps` writes drawn at random (seeded) among all those that change a key figure or a
    call's figures (tests/idea/test_call_figures_tally.py), through the services as the platform
    makes them and as core statements, each in its own transaction; `check(session, what was
    done)` is called after each, on a session that reads afresh. Returns what each step did."""
    random.seed(seed)
    with db.transaction() as s:
        admin = make_user(s, role=Role.admin)
        make_user(s, role=Role.moderator)
        for _ in range(12):
            make_user(s)
        calls = [make_call(s, phase="voting", premoderation=True, votes_per_citizen=50, ideas_per_citizen=50),
                 make_call(s, phase="submissions", voting_during_submissions=True, votes_per_citizen=50,
                           ideas_per_citizen=50)]
        admin_id, call_ids = admin.id, [c.id for c in calls]

    def citizen(s: Session) -> User:
        return _pick(s, User, col(User.role) == Role.citizen, col(User.deleted_at).is_(None))  # type: ignore[no-any-return]

    def actor(s: Session) -> User:
        found = s.get(User, admin_id)
        assert found is not None
        return found

    def new_idea(s: Session) -> str:
        call = s.get(Call, random.choice(call_ids))
        assert call is not None
        author = citizen(s)
        if random.random() < 0.4:  # as an import or the benchmark writes it: published at once
            make_idea(s, call, author, status=random.choice(["published", "draft", "merged", "rejected"]))
            return "idea inserted"
        submit = random.random() < 0.7
        data = IdeaInput(title="Une idée de plus", body_md="Un texte assez long pour être une idée.", language="fr")
        create_idea(s, settings, call, author, data=data, submit=submit)
        return "idea created" + (" and submitted" if submit else "")

    def idea_with(s: Session, *statuses: str) -> Idea | None:
        return _pick(s, Idea, col(Idea.status).in_(statuses))  # type: ignore[no-any-return]

    def submit(s: Session) -> str:
        idea = idea_with(s, IdeaStatus.draft, IdeaStatus.changes_requested)
        if idea is None or idea.author_id is None:
            return "nothing to submit"
        call, author = s.get(Call, idea.call_id), s.get(User, idea.author_id)
        assert call is not None and author is not None
        submit_idea(s, call, idea, author, settings=settings)
        return f"submitted: {idea.status}"

    def decide(s: Session) -> str:
        idea = idea_with(s, IdeaStatus.submitted, IdeaStatus.published)
        if idea is None:
            return "nothing to decide"
        if idea.status == IdeaStatus.submitted and random.random() < 0.6:
            decisions.approve_idea(s, actor=actor(s), idea=idea, settings=settings)
            return "approved"
        if random.random() < 0.5:
            decisions.request_changes(s, actor=actor(s), idea=idea, message="Précisez le lieu.", settings=settings)
            return "changes requested"
        decisions.reject_idea(s, actor=actor(s), idea=idea, reason="Hors du champ de l'appel.", settings=settings)
        return "rejected"

    def hide_or_restore(s: Session) -> str:
        idea = idea_with(s, IdeaStatus.published, IdeaStatus.merged)
        if idea is None:
            return "nothing to hide"
        if idea.hidden_at is None:
            decisions.hide_idea(s, actor=actor(s), idea=idea, reason="Hors sujet", settings=settings)
            return "hidden"
        decisions.restore_idea(s, actor=actor(s), idea=idea, settings=settings)
        return "restored"

    def withdraw(s: Session) -> str:
        idea = idea_with(s, IdeaStatus.published, IdeaStatus.draft, IdeaStatus.submitted)
        if idea is None or idea.author_id is None:
            return "nothing to withdraw"
        withdraw_idea(s, idea, s.get(User, idea.author_id))  # type: ignore[arg-type]
        return "withdrawn"

    def support(s: Session) -> str:
        idea = _pick(s, Idea, col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None))
        if idea is None:
            return "nothing to support"
        call = s.get(Call, idea.call_id)
        cast_vote(s, idea=idea, call=call, user=citizen(s))  # type: ignore[arg-type]
        return "supported"

    def take_back(s: Session) -> str:
        vote = _pick(s, Vote)
        if vote is None:
            return "no support"
        idea, call, user = s.get(Idea, vote.idea_id), s.get(Call, vote.call_id), s.get(User, vote.user_id)
        withdraw_vote(s, idea=idea, call=call, user=user)  # type: ignore[arg-type]
        return "support withdrawn"

    def merge(s: Session) -> str:
        source = _pick(s, Idea, col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None))
        if source is None:
            return "nothing to merge"
        target = _pick(s, Idea, col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None),
                       col(Idea.call_id) == source.call_id, col(Idea.id) != source.id)
        if target is None:
            return "nothing to merge into"
        decisions.merge_ideas(s, actor=actor(s), source=source, target=target, note="Doublon", settings=settings)
        return "merged"

    def delete_person(s: Session) -> str:
        person = citizen(s)
        delete_account(s, settings, person, password=DEFAULT_PASSWORD)
        return "account deleted"

    def delete_idea(s: Session) -> str:
        idea = _pick(s, Idea)
        if idea is None:
            return "no idea"
        s.delete(idea)  # its votes go with it (ON DELETE CASCADE)
        return "idea deleted"

    def remove_account_row(s: Session) -> str:
        # Not a path of the platform, which anonymises: a row deleted by hand, its votes deleted
        # and its ideas' author set to NULL by the foreign keys.
        person = citizen(s)
        return "account row deleted" if delete_account_row(s, person.id) else "account row kept (referenced)"

    def bulk_update(s: Session) -> str:
        # Core UPDATEs no service sees: one author's ideas hidden or shown at once, an idea's
        # status and counter written directly, an idea given to another author, a support
        # moved to another person.
        idea = _pick(s, Idea)
        if idea is None:
            return "no idea"
        s.execute(sa_update(Idea).where(col(Idea.author_id) == idea.author_id)
                  .values(hidden_at=None if random.random() < 0.5 else utcnow()))
        s.execute(sa_update(Idea).where(col(Idea.id) == idea.id).values(
            status=random.choice(["published", "merged", "withdrawn"]), vote_count=Idea.vote_count + 3))
        s.execute(sa_update(Idea).where(col(Idea.id) == idea.id).values(author_id=citizen(s).id))
        vote = _pick(s, Vote)
        if vote is not None:
            try:
                with s.begin_nested():
                    s.execute(sa_update(Vote).where(col(Vote.id) == vote.id).values(user_id=citizen(s).id))
            except IntegrityError:
                pass  # that person supports the idea already
        return "bulk update"

    def answer(s: Session) -> str:
        idea = _pick(s, Idea, col(Idea.status) == IdeaStatus.published)
        if idea is None:
            return "nothing to answer"
        if idea.answer_status is not None and random.random() < 0.5:
            # No service takes an answer back: a core UPDATE, as an administrator's fix would.
            s.execute(sa_update(Idea).where(col(Idea.id) == idea.id).values(answer_status=None))
            return "answer removed"
        decisions.answer_idea(s, actor=actor(s), idea=idea, answer_status=random.choice(list(AnswerStatus)),
                              answer_md="La ville étudie cette idée.", settings=settings)
        return "answered"

    def move(s: Session) -> str:
        # No service moves an idea to another call either: a core UPDATE.
        idea = _pick(s, Idea)
        if idea is None:
            return "no idea"
        s.execute(sa_update(Idea).where(col(Idea.id) == idea.id)
                  .values(call_id=next(c for c in call_ids if c != idea.call_id)))
        return "moved to another call"

    writes = [(new_idea, 10), (submit, 3), (decide, 3), (hide_or_restore, 3), (withdraw, 2), (support, 12),
              (take_back, 4), (merge, 2), (delete_person, 1), (delete_idea, 1), (remove_account_row, 1),
              (bulk_update, 2), (answer, 3), (move, 2)]
    chosen = random.choices([w for w, _ in writes], weights=[n for _, n in writes], k=steps)
    done_each: list[str] = []
    with db.autocommit_session() as reader:
        for step, write in enumerate(chosen):
            try:
                with db.transaction() as s:
                    done = write(s)
            except AppError as exc:
                done = f"{write.__name__} refused: {exc!r}"
            if check is not None:
                reader.expire_all()
                check(reader, f"{step}: {done}")
            done_each.append(done)
    return done_each


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_key_figures_equal_a_recount_after_every_kind_of_write(db: Database, settings: Settings, seed: int) -> None:
    seen: list[tuple[int, int, int]] = []

    def check(reader: Session, what: str) -> None:
        read = _read(reader)
        assert read == recount(reader) == _kept(reader), what
        seen.append(read)

    random_writes(db, settings, seed, STEPS, check)
    # The sequence moved every figure up and down.
    for index in range(3):
        values = [figures[index] for figures in seen]
        assert max(values) > 2 and any(later < earlier for earlier, later in zip(values, values[1:], strict=False))


def test_reading_the_key_figures_reads_neither_votes_nor_ideas(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        call = make_call(s, phase="voting", votes_per_citizen=5)
        ideas = [make_idea(s, call) for _ in range(3)]
        voter = make_user(s)
        for idea in ideas[:2]:
            cast_vote(s, idea=idea, call=call, user=voter)
    with db.autocommit_session() as s:
        with counting(db.engine) as seen:
            read = _read(s)
        assert read == recount(s) == (3, 4, 2)
    assert len(seen) == 1 and not re.search(r"\b(idea|vote|user_account|participation)\b", seen[0]), seen


def _triggers(session: Session, dialect: str) -> set[tuple[str, str]]:
    if dialect == "sqlite":
        rows = session.execute(sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")).all()
    else:
        rows = session.execute(sa.text("SELECT DISTINCT event_object_table, trigger_name "
                                       "FROM information_schema.triggers")).all()
    return {(table, name) for table, name in rows}


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TALLY_MIGRATIONS = ("0041_dialogue_tallies", "0042_key_figures_tallies", "0044_call_figures_tally")


def test_every_trigger_of_the_tally_migrations_exists_at_the_head_of_the_chain(db: Database) -> None:
    # A later migration rebuilding `idea`, `vote`, `comment`, `user_account` or `audit_entry` in
    # SQLite's batch mode drops their triggers, unless it creates them again.
    expected = {(table, name) for revision in TALLY_MIGRATIONS
                for table, names in _migration(revision).TRIGGER_NAMES.items() for name in names}
    with db.autocommit_session() as s:
        found = _triggers(s, db.engine.dialect.name)
    assert len(expected) == 11 + 9 + 3 and expected <= found, expected - found


@contextmanager
def backfilled_after_writes(tmp_path: Path, empty_database: str, before: str, *more: Any) -> Iterator[Database]:
    """A database filled at head by `random_writes`, taken back to revision `before` (the tally
    migrations after it dropped, tables and triggers), written to without their triggers (half
    the ideas made public, every idea's counter moved, then the `more` statements), then
    migrated to head again: its backfills count what is there. Yields it; disposed after."""
    settings = make_settings(tmp_path / "var", empty_database)
    links.bind(ROUTERS)  # the decisions' notices link to the idea (no app is made here)
    migrate.upgrade(empty_database)
    filled = Database.from_settings(settings)
    try:
        random_writes(filled, settings, 4, 60)
        config = migrate.alembic_config(empty_database)
        command.downgrade(config, before)
        with filled.transaction() as s:  # writes no trigger of the later migrations follows
            s.execute(sa_update(Idea).where(col(Idea.id) % 2 == 0).values(hidden_at=None, status="published"))
            s.execute(sa_update(Idea).values(vote_count=Idea.vote_count + 1))
            for statement in more:
                s.execute(statement)
        filled.dispose()
        command.upgrade(config, "head")
        yield filled
    finally:
        filled.dispose()


def test_the_migration_backfill_equals_a_recount(tmp_path: Path, empty_database: str) -> None:
    with backfilled_after_writes(tmp_path, empty_database, "0041") as filled, filled.autocommit_session() as s:
        figures = _read(s)
        assert figures == recount(s) == _kept(s) and min(figures) > 0
