"""Votes: support an idea within the call's rules, or take the support back.

Every rule is checked inside the write transaction, after taking the voter's lock (see
app.locks): the phase (a vote one second after voting ends is refused), one vote per
idea (also a unique constraint), and the limit per call or per category. Counters move in
SQL in the same transaction, so a card's count always equals the rows.
"""

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Call, VoteScope
from app.call.phases import accepts_votes
from app.errors import Conflict, Forbidden, InvalidTransition
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.locks import lock_user
from app.vote.models import Vote

ALREADY_VOTED = N_("You already support this idea.")
NO_VOTES_LEFT_CALL = N_("You have used all your votes for this call ({limit}). Withdraw one to support this idea.")
NO_VOTES_LEFT_CATEGORY = N_("You have used all your votes for this theme ({limit}). Withdraw one to support this idea.")
VOTING_CLOSED = N_("Voting is not open for this call.")
NOT_VOTABLE = N_("This idea cannot receive votes.")


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
        return max(self.limit - self.used, 0)


def _scope_conditions(user_id: int, idea: Idea, call: Call) -> list:  # type: ignore[type-arg]
    conditions = [col(Vote.user_id) == user_id, col(Vote.call_id) == call.id]
    if call.vote_scope == VoteScope.category:
        conditions.append(col(Vote.category_id).is_(None) if idea.category_id is None
                          else col(Vote.category_id) == idea.category_id)
    return conditions


def votes_used(session: Session, *, user_id: int, idea: Idea, call: Call) -> int:
    """Votes this person has given within the limit that applies to `idea`. A vote for an idea
    that left the running (hidden, withdrawn, rejected) no longer counts: its voter can no
    longer see it to withdraw the vote, so it must not hold one of their votes hostage."""
    return int(session.exec(
        select(func.count()).select_from(Vote).join(Idea, col(Idea.id) == Vote.idea_id)
        .where(*_scope_conditions(user_id, idea, call), col(Idea.status) == IdeaStatus.published,
               col(Idea.hidden_at).is_(None))
    ).one())


def has_voted(session: Session, *, user_id: int, idea_id: int) -> bool:
    """Whether user `user_id` supports idea `idea_id`."""
    return session.exec(select(Vote.id).where(Vote.idea_id == idea_id, Vote.user_id == user_id)).first() is not None


def voted_idea_ids(session: Session, *, user_id: int, idea_ids: list[int]) -> set[int]:
    """Of these ideas, those the person supports (one query for a whole list of cards)."""
    if not idea_ids:
        return set()
    return set(session.exec(
        select(Vote.idea_id).where(Vote.user_id == user_id, col(Vote.idea_id).in_(idea_ids))
    ).all())


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


def _check_open(session: Session, idea: Idea, call: Call) -> None:
    # Read again under the lock: a moderator may have hidden the idea, an admin moved the phase.
    session.refresh(call)
    status, hidden_at = session.exec(select(Idea.status, Idea.hidden_at).where(Idea.id == idea.id)).one()
    if status != IdeaStatus.published or hidden_at is not None:
        raise Forbidden(NOT_VOTABLE)
    if not accepts_votes(call):
        raise InvalidTransition(VOTING_CLOSED)


def cast_vote(session: Session, *, idea: Idea, call: Call, user: User) -> VoteState:
    """Support `idea`. Raises Conflict (already voted, no votes left), InvalidTransition
    (voting closed) or Forbidden (idea not open to votes). Supporting does not make one follow
    the idea: following is a choice of its own, offered next to the support button."""
    assert user.id is not None and idea.id is not None
    lock_user(session, user.id)
    _check_open(session, idea, call)
    if has_voted(session, user_id=user.id, idea_id=idea.id):
        raise Conflict(ALREADY_VOTED)
    limit = call.votes_per_citizen
    used = votes_used(session, user_id=user.id, idea=idea, call=call)
    if used >= limit:
        message = NO_VOTES_LEFT_CATEGORY if call.vote_scope == VoteScope.category else NO_VOTES_LEFT_CALL
        raise Conflict(message, limit=limit)
    try:
        session.execute(insert(Vote).values(idea_id=idea.id, user_id=user.id, call_id=call.id,
                                            category_id=idea.category_id))
    except IntegrityError as exc:  # a twin request got there first: the constraint holds the line
        raise Conflict(ALREADY_VOTED) from exc
    session.execute(update(Idea).where(col(Idea.id) == idea.id).values(vote_count=col(Idea.vote_count) + 1))
    count = vote_count(session, idea.id)
    return VoteState(voted=True, vote_count=count, limit=limit, used=used + 1, scope=call.vote_scope, open=True)


def withdraw_vote(session: Session, *, idea: Idea, call: Call, user: User) -> VoteState:
    """Take a vote back while voting is open. Withdrawing twice is harmless."""
    assert user.id is not None and idea.id is not None
    lock_user(session, user.id)
    session.refresh(call)
    if not accepts_votes(call):
        raise InvalidTransition(N_("Voting is closed: votes can no longer be withdrawn."))
    removed = session.execute(
        delete(Vote).where(col(Vote.idea_id) == idea.id, col(Vote.user_id) == user.id)
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        session.execute(update(Idea).where(col(Idea.id) == idea.id).values(vote_count=col(Idea.vote_count) - 1))
    count = vote_count(session, idea.id)
    return VoteState(voted=False, vote_count=count, limit=call.votes_per_citizen,
                     used=votes_used(session, user_id=user.id, idea=idea, call=call), scope=call.vote_scope,
                     open=True)


def count_rows(session: Session, idea_id: int) -> int:
    """Counted from the rows: for tests and repairs, never for pages (they read the column)."""
    return int(session.exec(select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id)).one())
