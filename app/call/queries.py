"""Reading calls: the ones a visitor may see, the home page lists, a call's timeline."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app import authz
from app.account.models import User
from app.authz import Action
from app.call.models import PHASE_ORDER, Call, Phase, VotingMode
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import NotFound
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.pagecache import memo
from app.vote import service as vote_service
from app.vote.allowance import Allowance
from app.vote.models import Vote

PHASE_LABELS = {
    Phase.draft: N_("In preparation"),
    Phase.submissions: N_("Submitting ideas"),
    Phase.technical_review: N_("Technical review"),
    Phase.voting: N_("Voting"),
    Phase.review: N_("Review by the city"),
    Phase.results: N_("Results"),
    Phase.closed: N_("Closed"),
}

# What happens in a phase whose name alone does not say it, shown with it to citizens.
PHASE_EXPLAINED = {
    Phase.technical_review: N_("The city's services check that each idea is feasible and estimate its cost, with a "
                               "public explanation. Only feasible, costed ideas go to the vote."),
}


def phases_of(call: Call) -> list[Phase]:
    """The phases `call` goes through, in order: the technical review only for a participatory
    budget."""
    return [p for p in PHASE_ORDER if p != Phase.technical_review or call.voting_mode == VotingMode.budget]


@dataclass
class TimelineStep:
    phase: Phase
    label: str
    starts_at: datetime | None
    state: str  # "past", "current" or "future"
    explanation: str = ""  # a msgid saying what happens (PHASE_EXPLAINED), or ""


# Built once: every call page that is not kept whole runs it (issue 14).
_BY_SLUG = select(Call).where(col(Call.slug) == bindparam("slug"))


def visible_call_by_slug(session: Session, slug: str, viewer: User | None) -> Call:
    """The call, or NotFound for draft calls unless the viewer is an administrator."""
    call = session.exec(_BY_SLUG, params={"slug": slug}).first()
    if call is None or not authz.can(viewer, Action.call_view, call):
        raise NotFound()
    return call


def kept_call_by_slug(session: Session, slug: str, viewer: User | None) -> Call:
    """`visible_call_by_slug`, the call's row read once while the page generation stays the same
    (app.pagecache.memo), shared read-only by the requests of the process: for the call page,
    which reads nothing through the call's relationships. Whether `viewer` may see it is
    checked for each request."""
    def read() -> Call | None:
        found = session.exec(_BY_SLUG, params={"slug": slug}).first()
        return memo.detached(session, [found])[0] if found is not None else None

    call = memo.remembered(session, "call_by_slug", (slug,), read)
    if call is None or not authz.can(viewer, Action.call_view, call):
        raise NotFound()
    return call


def visible_call_by_id(session: Session, call_id: int, viewer: User | None) -> Call:
    """The call `call_id` if `viewer` may see it (draft calls only for administrators). Raises NotFound otherwise, so a
    hidden call looks like a missing one."""
    call = session.get(Call, call_id)
    if call is None or not authz.can(viewer, Action.call_view, call):
        raise NotFound()
    return call


def visible_calls(session: Session, viewer: User | None) -> list[Call]:
    """Every call `viewer` may see, the most recent submissions first."""
    calls = session.exec(select(Call).order_by(col(Call.submissions_start).desc(), col(Call.id).desc())).all()
    return [c for c in calls if authz.can(viewer, Action.call_view, c)]


def home_lists(session: Session, viewer: User | None) -> dict[str, list[Call]]:
    """Open calls (submissions or voting) first, then those with results."""
    now = utcnow()
    open_calls: list[Call] = []
    results: list[Call] = []
    upcoming: list[Call] = []
    for call in visible_calls(session, viewer):
        phase = current_phase(call, now)
        if phase in (Phase.submissions, Phase.technical_review, Phase.voting, Phase.review):
            open_calls.append(call)
        elif phase in (Phase.results, Phase.closed):
            results.append(call)
        else:
            upcoming.append(call)
    return {"open_calls": open_calls, "result_calls": results[:6], "upcoming_calls": upcoming}


def timeline(call: Call) -> list[TimelineStep]:
    """The call's phases from submissions to closed (`phases_of`), each with its label, start date,
    state (past, current, future) as of now, and what happens in it when its name does not say it."""
    now_phase = current_phase(call)
    starts = {
        Phase.submissions: call.submissions_start,
        Phase.technical_review: call.technical_review_start,
        Phase.voting: call.voting_start,
        Phase.review: call.review_start,
        Phase.results: call.results_start,
        Phase.closed: call.closes_at,
    }
    current_index = PHASE_ORDER.index(now_phase)
    steps = []
    for phase in phases_of(call)[1:]:
        index = PHASE_ORDER.index(phase)
        state = "past" if index < current_index else "current" if index == current_index else "future"
        steps.append(TimelineStep(phase, PHASE_LABELS[phase], starts[phase], state, PHASE_EXPLAINED.get(phase, "")))
    return steps



class OwnIdea(NamedTuple):
    """One of the viewer's own ideas in a call, as the list's "your ideas" shows it."""

    id: int
    title: str
    status: IdeaStatus


@dataclass(frozen=True)
class ViewerPart:
    """What a call's list shows of its viewer (`viewer_part`): their supports in the call
    (`allowance`, app.vote.allowance.Allowance), which of the page's ideas they support
    (`voted`: idea ids) and their own ideas in the call, whatever their status, newest first."""

    allowance: Allowance
    voted: set[int]
    own_ideas: list[OwnIdea]


# What a call's list shows of its viewer, in one statement built once and run on the connection
# (Core: no ORM objects made), where it took three through the ORM (issue 14; on PostgreSQL each
# is a round trip): their own ideas in the call (kind 2: id, title, status, created; first, so
# that the union's columns have those columns' types), the counted supports per theme of the
# call (kind 0: the call's id, the theme, their number), as app.vote.allowance counts them
# (`counted`: published and visible ideas, in their theme now), and which of the page's ideas
# they support (kind 1: the idea's id).
_VIEWER_PART: sa.CompoundSelect[Any] = sa.union_all(
    sa.select(sa.literal_column("2").label("kind"), col(Idea.id).label("id"), col(Idea.title), col(Idea.status),
              col(Idea.created_at), sa.null().label("category_id"), sa.null().label("n"))
    .where(col(Idea.call_id) == bindparam("call_id"), col(Idea.author_id) == bindparam("user_id")),
    sa.select(sa.literal_column("0"), col(Vote.call_id), sa.null(), sa.null(), sa.null(), col(Idea.category_id),
              sa.func.count())
    .join(Idea, col(Idea.id) == Vote.idea_id)
    .where(col(Vote.user_id) == bindparam("user_id"), col(Vote.call_id) == bindparam("call_id"),
           *vote_service.counted())
    .group_by(col(Vote.call_id), col(Idea.category_id)),
    sa.select(sa.literal_column("1"), col(Vote.idea_id), sa.null(), sa.null(), sa.null(), sa.null(),
              sa.literal_column("1"))
    .where(col(Vote.user_id) == bindparam("user_id"), col(Vote.idea_id).in_(bindparam("idea_ids", expanding=True))),
)


def viewer_part(session: Session, user: User | None, call: Call, idea_ids: list[int | None]) -> ViewerPart:
    """What a call's list shows of `user` (None for a visitor, who has nothing there): their
    allowance in `call` (the same figures as app.vote.allowance's `allowance(..., call_ids=
    [call.id])`), which of `idea_ids` (the page's cards) they support, and their own ideas in
    the call. One statement."""
    if user is None or user.id is None or call.id is None:
        return ViewerPart(Allowance(), set(), [])
    held: dict[tuple[int, int | None], int] = {}
    voted: set[int] = set()
    own: list[tuple[datetime, OwnIdea]] = []
    params = {"user_id": user.id, "call_id": call.id, "idea_ids": [i for i in idea_ids if i is not None]}
    for kind, found_id, title, status, created_at, category_id, n in session.connection().execute(
            _VIEWER_PART, params):
        if kind == 0:
            held[(int(found_id), category_id)] = int(n)
        elif kind == 1:
            voted.add(int(found_id))
        else:
            own.append((created_at, OwnIdea(int(found_id), title, status)))
    own.sort(key=lambda pair: pair[0], reverse=True)
    return ViewerPart(Allowance(held), voted, [idea for _, idea in own])
