"""Votes: support an idea within the call's rules, or take the support back.

Every rule is checked inside the write transaction, after taking the voter's lock, the call's
shared lock and the idea's lock, in that order (see app.locks), each row read again as its lock
is taken: the voter (still active: an account deleted meanwhile has had its supports withdrawn),
the phase (a vote one second after voting ends is refused), the idea (still public), one vote
per idea (also a unique constraint), and the limit per call or per category. Counters move in
SQL in the same transaction, so a card's count always equals the rows.

A support counts while its idea is published and visible, in the theme the idea is in now.
Moderation may bring a support back into a count (a hidden idea restored...): app.vote.limits
keeps everyone within the limit then.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, case, delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app import authz
from app.account.models import User
from app.call.models import Call, VoteScope
from app.call.phases import accepts_votes
from app.clock import utcnow
from app.errors import Conflict, Forbidden, InvalidTransition
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.locks import fresh_under_locks
from app.vote.models import Vote

ALREADY_VOTED = N_("You already support this idea.")
NO_VOTES_LEFT_CALL = N_("You have used all your supports for this call ({limit}). Withdraw one to support this idea.")
NO_VOTES_LEFT_CATEGORY = N_("You have used all your supports for this theme ({limit}). Withdraw one to support "
                            "this idea.")
VOTING_CLOSED = N_("Voting is not open for this call.")
NOT_VOTABLE = N_("This idea cannot receive supports.")


@dataclass
class VoteState:
    """What the vote panel shows one person for one idea."""

    voted: bool
    vote_count: int
    limit: int
    used: int
    scope: str
    open: bool

    @property
    def left(self) -> int:
        # Not clamped: nobody holds more than the limit (app.vote.limits), so this is never
        # negative, and a wrong count would show rather than hide behind a 0.
        return self.limit - self.used


# The tables themselves: the statements of a support are Core statements on them, which
# SQLAlchemy runs without its ORM layer (entities, compile state, bulk-DML paths): measured on
# SQLite, the counter's UPDATE 130 -> 43 us, the standing 117 -> 60 us, the INSERT 250 -> 71 us,
# the support's share of its write turn (issue 14). The conditions below are on the table's
# columns for that reason; ORM queries take them as well.
IDEA = Idea.__table__  # type: ignore[attr-defined]
VOTE = Vote.__table__  # type: ignore[attr-defined]


def counted() -> list:  # type: ignore[type-arg]
    """The conditions under which a support counts against its voter's limit (on a query joining
    Idea): its idea is published and visible. A vote for an idea that left the running (hidden,
    held for review, withdrawn, rejected) no longer counts: its voter can no longer see it to
    withdraw the vote, so it must not hold one of their votes hostage."""
    return [IDEA.c.status == IdeaStatus.published, IDEA.c.hidden_at.is_(None)]


def bucket_conditions(call: Call, category_id: Any) -> list:  # type: ignore[type-arg]
    """The conditions (on a query joining Idea) that keep the supports sharing one limit with an
    idea of theme `category_id` (an id, None for no theme, or a bound parameter standing for an
    id): the whole call, or that theme only. The theme is the idea's as it is now, not as it was
    when the support was given: an idea moved to another theme takes its supports with it."""
    return _bucket(call.vote_scope, category_id)


def _bucket(vote_scope: str, category_id: Any) -> list:  # type: ignore[type-arg]
    if vote_scope != VoteScope.category:
        return []
    return [IDEA.c.category_id.is_(None) if category_id is None else IDEA.c.category_id == category_id]


def held(session: Session, *, user_id: int, call: Call, category_id: int | None) -> int:
    """How many counted supports person `user_id` holds under the limit that applies to an idea
    of `call` in theme `category_id`."""
    return int(session.exec(
        select(func.count()).select_from(Vote).join(Idea, col(Idea.id) == Vote.idea_id)
        .where(col(Vote.user_id) == user_id, col(Vote.call_id) == call.id, *counted(),
               *bucket_conditions(call, category_id))
    ).one())


def votes_used(session: Session, *, user_id: int, idea: Idea, call: Call) -> int:
    """Votes this person has given within the limit that applies to `idea` (see `counted` and
    `bucket_conditions`)."""
    return held(session, user_id=user_id, call=call, category_id=idea.category_id)


def most_held(session: Session, *, call: Call, vote_scope: str) -> int:
    """The most counted supports one person holds under one limit of `call`, were its supports
    counted by `vote_scope` (per call, or per theme): what a new limit must not go below."""
    bucket: list[Any] = [col(Vote.user_id)]
    if vote_scope == VoteScope.category:
        bucket.append(col(Idea.category_id))
    per_person = (select(func.count().label("n")).select_from(Vote).join(Idea, col(Idea.id) == Vote.idea_id)
                  .where(col(Vote.call_id) == call.id, *counted()).group_by(*bucket).subquery())
    return int(session.exec(select(func.coalesce(func.max(per_person.c.n), 0))).one())


def has_voted(session: Session, *, user_id: int, idea_id: int) -> bool:
    """Whether user `user_id` supports idea `idea_id`."""
    return session.exec(select(Vote.id).where(Vote.idea_id == idea_id, Vote.user_id == user_id)).first() is not None


# Built once: every logged-in call page runs it (issue 14; as app.vote.allowance._HELD).
_VOTED = select(Vote.idea_id).where(col(Vote.user_id) == bindparam("user_id"),
                                    col(Vote.idea_id).in_(bindparam("idea_ids", expanding=True)))


def voted_idea_ids(session: Session, *, user_id: int, idea_ids: list[int]) -> set[int]:
    """Of these ideas, those the person supports (one query for a whole list of cards)."""
    if not idea_ids:
        return set()
    return set(session.exec(_VOTED, params={"user_id": user_id, "idea_ids": list(idea_ids)}).all())


def vote_state(session: Session, *, user: User | None, idea: Idea, call: Call) -> VoteState:
    """What the support panel shows `user` (None for a visitor) for `idea`: whether they support it, its
    count, their limit, how many they used and whether voting is open."""
    voted = used = 0
    if user is not None and user.id is not None:
        voted = int(has_voted(session, user_id=user.id, idea_id=idea.id or 0))
        used = votes_used(session, user_id=user.id, idea=idea, call=call)
    return VoteState(voted=bool(voted), vote_count=idea.vote_count, limit=call.votes_per_citizen, used=used,
                     scope=call.vote_scope, open=accepts_votes(call))


def vote_count(session: Session, idea_id: int) -> int:
    """The counter column, read fresh."""
    return int(session.exec(select(Idea.vote_count).where(Idea.id == idea_id)).one())


# The two statements of every support, built once with bound parameters: building one is
# Python work (columns compared, functions wrapped, the cache key computed) that cost as much as
# running it through SQLAlchemy (py-spy, a support POST: 13% of its busy time in `_standing`, half
# of it building). Parameter names are not column names: an UPDATE reserves those for its SET.
_MOVE_COUNTER = (update(IDEA).where(IDEA.c.id == bindparam("counted_idea"))
                 .values(vote_count=IDEA.c.vote_count + bindparam("step")).returning(IDEA.c.vote_count))
# The support's row; the parameters are named as `_standing`'s, and as the row's values in
# `_support_statement`.
_ADD_VOTE = insert(VOTE).values(idea_id=bindparam("idea"), user_id=bindparam("voter"), call_id=bindparam("call"),
                                category_id=bindparam("theme"), created_at=bindparam("now"))


@cache
def _standing_statement(vote_scope: str, themeless: bool) -> Any:
    """`_standing`'s statement for a call counting by `vote_scope`, for an idea without a theme
    (`themeless`) or with one (bound as "theme")."""
    return (sa_select(func.count().label("held"),
                      func.coalesce(func.max(case((VOTE.c.idea_id == bindparam("idea"), 1), else_=0)), 0)
                      .label("mine"))
            .select_from(VOTE.join(IDEA, IDEA.c.id == VOTE.c.idea_id))
            .where(VOTE.c.user_id == bindparam("voter"), VOTE.c.call_id == bindparam("call"), *counted(),
                   *_bucket(vote_scope, None if themeless else bindparam("theme"))))


@cache
def _support_statement(vote_scope: str, themeless: bool) -> Any:
    """PostgreSQL: `_standing`, the support's row and the counter in one statement (one round
    trip instead of three). Returns (held, mine, new count): the voter's standing as `_standing`
    reads it, and the idea's counter once moved, NULL when no row was added (already supported,
    or no support left: `held` and `mine` say which). The row is added only when `mine` is 0 and
    `held` below the bound "limit", the checks made in Python otherwise, on the same snapshot:
    taken after the locks (`_check_open`), as `_standing`'s own. A twin row still meets the
    unique constraint (IntegrityError)."""
    standing = _standing_statement(vote_scope, themeless).cte("standing")
    values = sa_select(bindparam("idea", type_=Integer), bindparam("voter", type_=Integer),
                       bindparam("call", type_=Integer), bindparam("theme", type_=Integer),
                       bindparam("now", type_=VOTE.c.created_at.type)).where(
        standing.c.held < bindparam("limit", type_=Integer), standing.c.mine == 0)
    added = (insert(VOTE).from_select(["idea_id", "user_id", "call_id", "category_id", "created_at"], values)
             .returning(VOTE.c.idea_id).cte("added"))
    moved = (update(IDEA).where(IDEA.c.id.in_(sa_select(added.c.idea_id)))
             .values(vote_count=IDEA.c.vote_count + 1).returning(IDEA.c.vote_count).cte("moved"))
    return sa_select(standing.c.held, standing.c.mine, sa_select(moved.c.vote_count).scalar_subquery())


def _move_counter(session: Session, idea_id: int, step: int) -> int:
    """Add `step` (+1 or -1) to the idea's counter in SQL and return the new value, in one
    statement (UPDATE ... RETURNING: no second read). Callers give the value to the Idea they
    loaded (`_counted`): the ORM does not see a Core UPDATE."""
    moved = session.execute(_MOVE_COUNTER, {"counted_idea": idea_id, "step": step})
    return int(moved.scalar_one())


def _counted(idea: Idea, count: int) -> int:
    """`count`, now also the loaded `idea`'s `vote_count` as the database holds it (no flush,
    no second read): code after the support in the same session, or a page rendered from
    this Idea, would otherwise show the count from before it."""
    set_committed_value(idea, "vote_count", count)
    return count


def _standing(session: Session, *, user_id: int, idea: Idea, call: Call) -> tuple[bool, int]:
    """(whether `user_id` supports `idea`, how many counted supports they hold under the limit
    that applies to it) in one statement. The idea itself is counted and in its own bucket
    (checked open just before), so its support, if any, is among the rows counted."""
    statement = _standing_statement(call.vote_scope, idea.category_id is None)
    row = session.execute(statement, {"idea": idea.id, "voter": user_id, "call": call.id,
                                      "theme": idea.category_id}).one()
    return bool(row[1]), int(row[0])


def _check_open(session: Session, idea: Idea, call: Call, user: User) -> None:
    # Read again under the locks: the voter may have been banned or have deleted their account
    # (whose supports were withdrawn then), a moderator may have hidden the idea, its author
    # moved it to another theme (whose limit then applies), an administrator moved the phase or
    # the limit, since the route read them. The reads take their locks (one statement, in
    # app.locks' order: the person, the call, the idea); on SQLite the write transaction read
    # them already with the write lock held, and `fresh_under_locks` keeps them.
    assert call.id is not None and idea.id is not None
    fresh_under_locks(session, user, call, idea)
    if idea.status != IdeaStatus.published or idea.hidden_at is not None:
        raise Forbidden(NOT_VOTABLE)
    authz.require_citizen(user, authz.Action.vote_cast, idea)
    if not accepts_votes(call):
        raise InvalidTransition(VOTING_CLOSED)


def _refuse_unless_free(voted: bool, used: int, call: Call) -> None:
    if voted:
        raise Conflict(ALREADY_VOTED)
    if used >= call.votes_per_citizen:
        message = NO_VOTES_LEFT_CATEGORY if call.vote_scope == VoteScope.category else NO_VOTES_LEFT_CALL
        raise Conflict(message, limit=call.votes_per_citizen)


def cast_vote(session: Session, *, idea: Idea, call: Call, user: User) -> VoteState:
    """Support `idea`. Raises Conflict (already voted, no votes left), InvalidTransition
    (voting closed) or Forbidden (idea not open to votes, voter no longer allowed). Supporting
    does not make one follow the idea: following is a choice of its own, offered next to the
    support button.

    Statements, once the idea and its call are loaded: on SQLite 3 (the voter's standing, the
    row, the counter); on PostgreSQL 2, each a round trip: the locks that read the voter, the
    call and the idea again (`fresh_under_locks`), then the standing, the row and the counter
    (`_support_statement`) (tests/vote/test_vote_statements.py holds the whole request to its
    bound)."""
    assert user.id is not None and idea.id is not None
    _check_open(session, idea, call, user)
    limit = call.votes_per_citizen
    if session.get_bind().dialect.name == "postgresql":
        try:
            used, voted, count = session.execute(
                _support_statement(call.vote_scope, idea.category_id is None),
                {"idea": idea.id, "voter": user.id, "call": call.id, "theme": idea.category_id, "now": utcnow(),
                 "limit": limit}).one()
        except IntegrityError as exc:  # a twin request got there first: the constraint holds the line
            raise Conflict(ALREADY_VOTED) from exc
        _refuse_unless_free(bool(voted), used, call)
        assert count is not None  # added: the checks above are the statement's own
        return VoteState(voted=True, vote_count=_counted(idea, count), limit=limit, used=used + 1,
                         scope=call.vote_scope, open=True)
    voted, used = _standing(session, user_id=user.id, idea=idea, call=call)
    _refuse_unless_free(voted, used, call)
    try:
        session.execute(_ADD_VOTE, {"idea": idea.id, "voter": user.id, "call": call.id, "theme": idea.category_id,
                                    "now": utcnow()})
    except IntegrityError as exc:  # a twin request got there first: the constraint holds the line
        raise Conflict(ALREADY_VOTED) from exc
    count = _counted(idea, _move_counter(session, idea.id, +1))
    return VoteState(voted=True, vote_count=count, limit=limit, used=used + 1, scope=call.vote_scope, open=True)


def withdraw_vote(session: Session, *, idea: Idea, call: Call, user: User) -> VoteState:
    """Take a vote back while voting is open. Withdrawing twice is harmless."""
    assert user.id is not None and idea.id is not None
    # The voter's lock, the call's shared one and the idea's, the three read again in one
    # statement (app.locks' order, as a support; the counter's UPDATE below locks the idea
    # anyway): an administrator closing the voting waits for this withdrawal, which found it
    # open, to be written, and no support is taken back once the close is committed. The voter
    # is judged again as read under the lock (read before the write turn on SQLite: app.db).
    fresh_under_locks(session, user, call, idea)
    authz.require_citizen(user, authz.Action.vote_withdraw, idea)
    if not accepts_votes(call):
        raise InvalidTransition(N_("Voting is closed: supports can no longer be withdrawn."))
    removed = session.execute(
        delete(Vote).where(col(Vote.idea_id) == idea.id, col(Vote.user_id) == user.id)
    )
    gone = removed.rowcount  # type: ignore[attr-defined]
    count = _counted(idea, _move_counter(session, idea.id, -1) if gone else vote_count(session, idea.id))
    return VoteState(voted=False, vote_count=count, limit=call.votes_per_citizen,
                     used=votes_used(session, user_id=user.id, idea=idea, call=call), scope=call.vote_scope,
                     open=True)


def count_rows(session: Session, idea_id: int) -> int:
    """Counted from the rows: for tests and repairs, never for pages (they read the column)."""
    return int(session.exec(select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id)).one())
