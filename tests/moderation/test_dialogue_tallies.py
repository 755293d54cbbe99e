"""The dialogue figures read from the tallies kept by triggers (migration 0041) equal a full
recount (tests/moderation/dialogue_oracle.py, the scanning code of before) after every write a
person or a moderator can make, and reading them no longer scans ideas, comments or the log."""

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from app import migrate
from app.account.models import Role, User
from app.account.privacy import delete_account
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.comment.service import create_comment, delete_comment
from app.db import Database
from app.errors import Conflict, InvalidTransition, ValidationFailed
from app.idea.models import AnswerStatus, Idea, IdeaStatus
from app.moderation import dialogue
from app.moderation.admin_service import set_role
from app.moderation.comment_decisions import hide_comment, restore_comment
from app.moderation.idea_decisions import answer_idea, approve_idea, hide_idea, merge_ideas, restore_idea
from app.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_call, make_comment, make_idea, make_user
from tests.moderation.dialogue_oracle import recount
from tests.support import delete_account_row, make_settings, recording, sqlite_plan

STEPS = 70


REACHED = ("ideas", "answered", "median_days", "waiting", "commented_ideas", "city_replied", "staff_comments")


def _assert_exact(session: Session, call_ids: list[int], step: str, reached: set[str] | None = None) -> None:
    """figures() equals the recount for each call and the platform, now and later (the figure
    "waiting" moves with the clock); adds to `reached` the figures that were not zero."""
    session.expire_all()
    for days_ahead in (0, 31, 90):
        now = utcnow() + timedelta(days=days_ahead)
        for call_id in [*call_ids, None]:
            read = dialogue.figures(session, call_id, now=now)
            assert read == recount(session, call_id, now=now), (step, call_id)
            if reached is not None:
                reached.update(name for name in REACHED if getattr(read, name) not in (0, None)
                               or (name == "median_days" and read.median_days is not None))


def _pick(session: Session, model: type, *where: object) -> object | None:
    rows = list(session.exec(select(model).where(*where).order_by(col(model.id))).all())  # type: ignore[attr-defined]
    return random.choice(rows) if rows else None


def random_writes(db: Database, settings: Settings, seed: int, steps: int,
                  reached: set[str] | None = None) -> list[int]:
    """`steps` writes drawn at random (seeded) among all those that change a dialogue figure, made
    through the services as the platform makes them, each in its own transaction; with `reached`,
    the figures are compared with a recount after each (and the figures seen non-zero noted in
    it). Returns the calls' ids."""
    random.seed(seed)
    with db.transaction() as s:
        admin = make_user(s, role=Role.admin)
        for role in (Role.moderator, Role.moderator, *[Role.citizen] * 5):
            make_user(s, role=role)
        calls = [make_call(s, phase="submissions", premoderation=True), make_call(s, phase="submissions")]
        ids = {"admin": admin.id, "calls": [c.id for c in calls]}
    call_ids: list[int] = ids["calls"]  # type: ignore[assignment]
    now = utcnow()

    def new_idea(s: Session) -> str:
        call = s.get(Call, random.choice(call_ids))
        assert call is not None
        author = _pick(s, User, col(User.role) == Role.citizen, col(User.deleted_at).is_(None))
        if random.random() < 0.5:  # published at once (an import, a call without pre-moderation)
            make_idea(s, call, author, status="published",  # type: ignore[arg-type]
                      published_at=now - timedelta(days=random.randint(0, 80)))
            return "idea published"
        idea = make_idea(s, call, author, status="submitted")  # type: ignore[arg-type]
        if call.premoderation:
            approve_idea(s, actor=s.get(User, ids["admin"]), idea=idea, settings=settings)  # type: ignore[arg-type]
        return "idea submitted and approved"

    def moderator(s: Session) -> User:
        return _pick(s, User, col(User.role).in_((Role.moderator, Role.admin)))  # type: ignore[return-value]

    def published(s: Session, **extra: object) -> Idea | None:
        return _pick(s, Idea, col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None),
                     *[getattr(Idea, k) == v for k, v in extra.items()])  # type: ignore[return-value]

    def hide_or_restore(s: Session) -> str:
        idea = _pick(s, Idea, col(Idea.status) == IdeaStatus.published)
        if idea is None:
            return "nothing to hide"
        assert isinstance(idea, Idea)
        if idea.hidden_at is None:
            hide_idea(s, actor=moderator(s), idea=idea, reason="Hors sujet", settings=settings)
            return "idea hidden"
        restore_idea(s, actor=moderator(s), idea=idea, settings=settings)
        return "idea restored"

    def answer(s: Session) -> str:
        idea = published(s)
        if idea is None:
            return "nothing to answer"
        answer_idea(s, actor=moderator(s), idea=idea, answer_status=random.choice(list(AnswerStatus)).value,
                    answer_md="La ville répond.", settings=settings)
        return "answered"

    def comment(s: Session) -> str:
        idea = published(s)
        if idea is None:
            return "nothing to comment"
        author = _pick(s, User, col(User.deleted_at).is_(None))
        call = s.get(Call, idea.call_id)
        create_comment(s, settings, idea=idea, call=call, author=author, body="Un avis motivé.")  # type: ignore[arg-type]
        return "commented"

    def remove_comment(s: Session) -> str:
        found = _pick(s, Comment, col(Comment.deleted_at).is_(None))
        if found is None:
            return "no comment"
        delete_comment(s, comment=found)  # type: ignore[arg-type]
        return "comment deleted"

    def hide_or_restore_comment(s: Session) -> str:
        found = _pick(s, Comment, col(Comment.deleted_at).is_(None))
        if found is None:
            return "no comment"
        assert isinstance(found, Comment)
        if found.hidden_at is None:
            hide_comment(s, actor=moderator(s), comment=found, reason="Insultant")
            return "comment hidden"
        restore_comment(s, actor=moderator(s), comment=found)
        return "comment restored"

    def change_role(s: Session) -> str:
        person = _pick(s, User, col(User.id) != ids["admin"], col(User.deleted_at).is_(None))
        assert isinstance(person, User)
        role = Role.citizen if person.role != Role.citizen else random.choice((Role.moderator, Role.admin))
        set_role(s, actor=s.get(User, ids["admin"]), user=person, role=role)  # type: ignore[arg-type]
        return f"role {role}"

    def merge(s: Session) -> str:
        source = published(s)
        if source is None:
            return "nothing to merge"
        target = published(s, call_id=source.call_id)
        if target is None or target.id == source.id:
            return "nothing to merge into"
        merge_ideas(s, actor=moderator(s), source=source, target=target, note="Doublon", settings=settings)
        return "merged"

    def delete_person(s: Session) -> str:
        person = _pick(s, User, col(User.id) != ids["admin"], col(User.deleted_at).is_(None))
        assert isinstance(person, User)
        delete_account(s, settings, person, password=DEFAULT_PASSWORD)
        return f"account of a {person.role} deleted"

    def delete_idea(s: Session) -> str:
        idea = _pick(s, Idea)
        if idea is None:
            return "no idea"
        s.delete(idea)  # its comments go with it (ON DELETE CASCADE)
        return "idea deleted"

    def remove_account_row(s: Session) -> str:
        # Not a path of the platform, which anonymises (above): a row deleted by hand, its
        # comments' author set to NULL by the foreign key.
        person = _pick(s, User, col(User.id) != ids["admin"], col(User.role) != Role.citizen)
        if person is None:
            return "no staff to delete"
        assert isinstance(person, User)
        if not delete_account_row(s, person.id):
            return "account row kept (referenced)"
        return "staff account row deleted"

    def bulk_update(s: Session) -> str:
        # Core UPDATEs that no service's code sees: an idea moved to the other call, and the
        # ideas of one author hidden or shown at once.
        idea = _pick(s, Idea)
        if idea is None:
            return "no idea"
        assert isinstance(idea, Idea)
        other = next(c for c in call_ids if c != idea.call_id)
        s.execute(sa_update(Idea).where(col(Idea.id) == idea.id).values(call_id=other))
        s.execute(sa_update(Idea).where(col(Idea.author_id) == idea.author_id)
                  .values(hidden_at=None if random.random() < 0.5 else utcnow()))
        return "bulk update"

    writes = [(new_idea, 6), (hide_or_restore, 2), (answer, 4), (comment, 8), (remove_comment, 2),
              (hide_or_restore_comment, 2), (change_role, 2), (merge, 1), (delete_person, 1), (delete_idea, 1),
              (remove_account_row, 1), (bulk_update, 1)]
    chosen = random.choices([w for w, _ in writes], weights=[n for _, n in writes], k=steps)
    with db.autocommit_session() as reader:
        for step, write in enumerate(chosen):
            try:
                with db.transaction() as s:
                    done = write(s)
            except (Conflict, InvalidTransition, ValidationFailed):
                done = f"{write.__name__} refused"
            if reached is not None:
                _assert_exact(reader, call_ids, f"{step}: {done}", reached)
    return call_ids


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_equal_a_recount_after_every_kind_of_write(db: Database, settings: Settings, seed: int) -> None:
    reached: set[str] = set()
    random_writes(db, settings, seed, STEPS, reached)
    assert reached == set(REACHED)  # the sequence did move every figure


def test_reading_the_figures_reads_no_comment_audit_entry_or_account(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        moderator = make_user(s, role=Role.moderator)
        call = make_call(s)
        for days in (40, 20, 10):
            idea = make_idea(s, call, published_at=utcnow() - timedelta(days=days))
        make_comment(s, idea)
        answer_idea(s, actor=moderator, idea=idea, answer_status="accepted", answer_md="Oui.", settings=settings)
        call_id = call.id
    with db.autocommit_session() as s, recording(s.get_bind()) as seen:  # type: ignore[arg-type]
        figures = dialogue.figures(s, call_id), dialogue.figures(s)
    assert figures[0] == figures[1] and figures[0].ideas == 3 and figures[0].median_days == 10.0
    read = [statement for statement, _ in seen]
    assert read and not [q for q in read if re.search(r"\b(FROM|JOIN)\s+(comment|audit_entry|user_account)\b", q)]
    if db.is_sqlite:
        with db.autocommit_session() as s:
            for statement, parameters in seen:
                details = sqlite_plan(s, statement, parameters)
                # Every read of the ideas is a range of one of migration 0041's partial indexes.
                ideas = [step for step in details.split(" | ") if " idea " in f"{step} "]
                assert all(re.match(r"SEARCH idea USING (COVERING )?INDEX ix_idea_(unanswered|answer_days)", d)
                           for d in ideas), (statement, details)


def test_the_migration_backfill_equals_a_recount(tmp_path: Path, empty_database: str) -> None:
    # A database filled while 0041's triggers did not exist yet: written at head, then taken
    # back to 0040 (its columns, tallies and triggers dropped) and migrated again (the backfill).
    settings = make_settings(tmp_path / "var", empty_database)
    migrate.upgrade(empty_database)
    filled = Database.from_settings(settings)
    try:
        call_ids = random_writes(filled, settings, 4, 60)
        config = migrate.alembic_config(empty_database)
        command.downgrade(config, "0040")
        with filled.autocommit_session() as s:
            assert "answer_days" not in s.connection().exec_driver_sql("SELECT * FROM idea").keys()  # noqa: SIM118
        filled.dispose()
        command.upgrade(config, "head")
        with filled.autocommit_session() as s:
            kept = s.connection().exec_driver_sql("SELECT DISTINCT call_id FROM dialogue_tally").scalars().all()
            assert set(kept) <= set(call_ids) and kept
            _assert_exact(s, call_ids, "backfill")
            assert dialogue.figures(s).answered and dialogue.figures(s).commented_ideas
    finally:
        filled.dispose()
