"""Row locks that serialise the writers who could break a rule together (votes, follows,
comments and reports take them; services call them before counting).

On PostgreSQL, READ COMMITTED lets two transactions count the same rows and both insert:
taking `SELECT ... FOR UPDATE` on a row first makes the second wait, and its later statements
see what the first committed. On SQLite every write session already starts with BEGIN
IMMEDIATE (app.db), which lets one writer in at a time, so nothing more is needed there.

The locks are FOR NO KEY UPDATE: they serialise our writers without blocking the KEY SHARE
locks that inserting a row with a foreign key takes (a notification for a voter, a vote for a
reported idea), which would otherwise deadlock with them.

One order for everyone, so that no two writers wait on each other: people first (several of
them in ascending id: `lock_users`), then the call (`share_call` / `lock_call`), then the idea.
A moderation decision that may bring supports back into a count (app.vote.limits) locks the
idea's supporters before the idea itself for that reason.

The database's triggers (migrations 0041, 0042 and 0044) add each idea's change to shared rows of
counters, the shard of the idea's id in `dialogue_tally`, `key_figures_tally` and
`call_figures_tally`, which a writer holds to its commit. A writer of one idea holds its idea,
then the shards, in the order PostgreSQL fires the triggers (their names'; 0044's rows are
sharded as 0042's, so that a call's row of shard s comes with the key figures' shard s: migration
0044 says why); a writer of many ideas
in several statements (an account's deletion) takes all of them first, in ascending id
(`lock_ideas`), so that it never waits for an idea while holding a shard another idea's writer
waits for.

Decisions that may take away an administrator (a role change, a suspension, an account
deletion) take one transaction-scoped advisory lock instead (`lock_admin_changes`): the rule
they keep ("another active administrator remains") is about a set of rows that the decisions
themselves change, so no single row could stand for it.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text, true
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Call
from app.comment.models import Comment
from app.errors import NotFound
from app.idea.models import Idea


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_user(session: Session, user_id: int) -> None:
    """Serialise one person's votes, follows and reports (limits are counted per person)."""
    if _is_postgres(session):
        session.exec(select(col(User.id)).where(col(User.id) == user_id).with_for_update(key_share=True)).first()


def lock_users(session: Session, user_ids: Iterable[int]) -> list[int]:
    """Lock several people's rows, in ascending id (the order every writer of several keeps), and
    return those ids. Used before counting supports for many people at once."""
    return _lock_in_order(session, col(User.id), user_ids, key_share=True)


def lock_ideas(session: Session, idea_ids: Iterable[int], *, for_update: bool = False) -> list[int]:
    """Lock several ideas' rows (FOR NO KEY UPDATE; FOR UPDATE when `for_update`), in ascending
    id, and return those ids. Taken by a writer of many ideas before its first write, after the
    people it locks (module docstring: without it, an account's deletion and a comment
    deadlocked on a dialogue shard, tests/account/test_deletion_locks.py).

    `for_update` for a writer that will lock them FOR UPDATE later (a moderator's decision,
    app.moderation.common.lock_idea): a lock made stronger later waits for the writers that only
    reference the idea (KEY SHARE, which FOR NO KEY UPDATE lets in), while such a writer about
    to change the idea waits for the first lock: a deadlock
    (tests/moderation/test_bulk_approve_locks.py)."""
    return _lock_in_order(session, col(Idea.id), idea_ids, key_share=not for_update)


def _lock_in_order(session: Session, id_column: Any, row_ids: Iterable[int], *, key_share: bool) -> list[int]:
    """Lock the rows of `id_column`'s table whose ids are `row_ids`, in ascending id (FOR NO KEY
    UPDATE when `key_share`, else FOR UPDATE) on PostgreSQL; returns the ids, sorted."""
    ids = sorted(set(row_ids))
    if _is_postgres(session) and ids:
        session.exec(select(id_column).where(id_column.in_(ids)).order_by(id_column)
                     .with_for_update(key_share=key_share)).all()
    return ids


def share_call(session: Session, call_id: int) -> None:
    """Keep the call's rules (limit of supports, per call or per theme) as they are until this
    transaction ends: many voters share this lock; `lock_call` waits for all of them."""
    if _is_postgres(session):
        session.exec(select(col(Call.id)).where(col(Call.id) == call_id).with_for_update(read=True)).first()


def lock_call(session: Session, call_id: int) -> None:
    """Take the call for an administrator who changes its rules: waits for the voters who hold
    `share_call`, and makes the next ones wait, so the rules are checked against every support."""
    if _is_postgres(session):
        session.exec(select(col(Call.id)).where(col(Call.id) == call_id).with_for_update(key_share=True)).first()


def lock_idea(session: Session, idea_id: int) -> None:
    """Serialise the reports on one idea (distinct reporters are counted per item)."""
    if _is_postgres(session):
        session.exec(select(col(Idea.id)).where(col(Idea.id) == idea_id).with_for_update(key_share=True)).first()


def fresh_under_lock(session: Session, row: User | Call | Idea, *, shared: bool = False) -> None:
    """Lock `row` (a person, a call or an idea, loaded in `session`) and read it again, in one
    statement: on PostgreSQL `SELECT ... FOR SHARE` when `shared` (what `share_call` takes), else
    `FOR NO KEY UPDATE` (what `lock_user`, `lock_call` and `lock_idea` take). On SQLite a write transaction
    (BEGIN IMMEDIATE, app.db) holds the one write lock since its first statement, so what it
    read is already what others see and nothing is read again (a route's session turned writer
    by `app.db.Database.write` expired what it read before, read again at its next use); any other transaction reads
    the row again, without a lock."""
    if _is_postgres(session):
        session.refresh(row, with_for_update={"read": True} if shared else {"key_share": True})
    elif not session.connection().get_execution_options().get("sqlite_immediate"):
        session.refresh(row)


def fresh_under_locks(session: Session, user: User, call: Call, idea: Idea) -> None:
    """`fresh_under_lock` for a person, a call and one of its ideas, in one statement: on
    PostgreSQL the person and the idea FOR NO KEY UPDATE, the call FOR SHARE (what `lock_user`,
    `share_call` and `lock_idea` take), in that order, and the three rows read again; on SQLite
    as `fresh_under_lock`. One round trip instead of three for every support (issue 14).

    The order is the locking clauses' own: PostgreSQL keeps a statement's row marks in the order
    its FOR ... OF clauses name the tables and locks each result row's rows in that order
    (transformLockingClause, then ExecLockRows), so this waits exactly as the three statements
    did: the person, then the call, then the idea. A row updated while the statement waited is
    read in its version once locked (READ COMMITTED's recheck). Raises NotFound when one of
    them is gone (deleted by hand: the platform anonymises people and hides ideas)."""
    if _is_postgres(session):
        query = (_three(user, call, idea)
                 .with_for_update(key_share=True, of=User)
                 .suffix_with(f"FOR SHARE OF {_CALL_NAME} FOR NO KEY UPDATE OF {_IDEA_NAME}", dialect="postgresql")
                 .execution_options(populate_existing=True))
        if session.exec(query).first() is None:
            raise NotFound()
    elif not session.connection().get_execution_options().get("sqlite_immediate"):
        query = _three(user, call, idea).execution_options(populate_existing=True)
        if session.exec(query).first() is None:
            raise NotFound()


def _three(user: User, call: Call, idea: Idea) -> Any:
    # Three rows by their keys: joined ON true (no condition links a person to a call), which
    # says the product is meant.
    return (select(User, Call, Idea).join_from(User, Call, true()).join(Idea, true())
            .where(col(User.id) == user.id, col(Call.id) == call.id, col(Idea.id) == idea.id))


# The tables' names as a FOR ... OF clause names them (quoted if PostgreSQL needs it).
_CALL_NAME = postgresql.dialect().identifier_preparer.format_table(Call.__table__)  # type: ignore[attr-defined]
_IDEA_NAME = postgresql.dialect().identifier_preparer.format_table(Idea.__table__)  # type: ignore[attr-defined]


def lock_comment(session: Session, comment_id: int) -> None:
    """Serialise the reports on one comment (distinct reporters are counted per item)."""
    if _is_postgres(session):
        query = select(col(Comment.id)).where(col(Comment.id) == comment_id)
        session.exec(query.with_for_update(key_share=True)).first()


# Outside the range of hashtext() (int4), which app.ratelimit uses for its advisory locks, so the
# two never share a lock by accident. Spells "ADMINS" in ASCII.
ADMIN_CHANGES_LOCK = 0x41444D494E53


def lock_admin_changes(session: Session) -> None:
    """Serialise the decisions that may leave fewer active administrators, until the transaction
    ends. Take it before any row lock of the decision (the person's row), so that two decisions
    always meet here first and never wait on each other's rows; then read again what the decision
    depends on (READ COMMITTED shows what the previous holder committed). Taking it twice in one
    transaction is harmless."""
    if _is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHANGES_LOCK})
