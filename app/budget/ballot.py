"""A citizen's ballot: projects added to a cart within the budget (of each district or theme
when it is split), then confirmed. Only confirmed ballots count.

Changes are allowed while voting is open, and a change (adding or removing a project)
un-confirms the ballot: what counts is always a choice its citizen confirmed as a whole, as
Decidim does; the page says so, and a reminder before voting closes reaches every citizen whose
ballot is not confirmed (app.budget.reminder).

Every write takes the citizen's lock, then the call's shared lock (app.locks), and counts what
the ballot spends under them: parallel additions by one person are serialised (on SQLite by
BEGIN IMMEDIATE), so a ballot never goes over budget and a project is never in it twice (also a
unique constraint).

What a ballot spends can also change without its citizen: moderators restore a project they had
hid (or publish again one sent back for changes), or its author moves it to another district or
theme of a split budget. Those paths lock the ballots' citizens with the supporters
(`holders`) and call `recheck`: a confirmed ballot that now spends more than a budget is no
longer confirmed, and its citizen is told (a notification, app.notify) to remove a project and
confirm again. Staff changes that would do the same are refused once ballots hold the projects
(a cost: app.budget.review; the budget: app.budget.rules). And whatever happened, a confirmed
ballot over a budget never counts (`over_budget`, read by app.budget.results)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import links
from app.account.models import User
from app.budget.models import Ballot, BallotItem, CallBudget, IdeaReview
from app.budget.money import euros
from app.budget.review import ballot_candidates
from app.budget.rules import Part, budget_of, is_budget, part_key, parts
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import Conflict, Forbidden, InvalidTransition, NotFound
from app.i18n import N_, N_plural
from app.idea.models import Idea
from app.locks import lock_user, share_call
from app.notify import service as notify_service
from app.notify.models import NotificationKind
from app.settings import Settings

BALLOT_CLOSED = N_("Voting is not open for this call.")
NOT_ON_BALLOT = N_("This idea is not on the ballot: only projects found feasible and costed by the technical "
                   "review are.")
ALREADY_IN = N_("This project is already in your ballot.")
OVER_BUDGET = N_("This project costs {cost} and only {left} is left in your budget. Remove a project to make room "
                 "for it.")
OVER_PART = N_("This project costs {cost} and only {left} is left in the budget of {part}. Remove a project of "
               "{part} to make room for it.")
NO_PART = N_("This project has no district or theme with a budget, so it cannot be chosen.")
OVER_SPENT = N_("Your ballot spends more than the budget: remove a project before confirming it.")
EMPTY = N_("Add at least one project before confirming your ballot.")
TOO_FEW = N_plural("Choose at least {n} project before confirming your ballot.",
                   "Choose at least {n} projects before confirming your ballot.")
TOO_LITTLE = N_("Spend at least {percent} % of the budget ({amount}) before confirming your ballot.")
# Why a confirmed ballot must be confirmed again (the notification's detail, then the ballot page).
RECONFIRM = N_("A project in your ballot is on the ballot again or changed, and your ballot now spends more than "
               "the budget: it no longer counts. Remove a project, then confirm your ballot again.")


@dataclass
class Project:
    """An idea on the ballot, with its cost and the part of the budget it spends."""

    idea: Idea
    review: IdeaReview
    part: int | None

    @property
    def cost(self) -> int:
        return self.review.cost_eur or 0


@dataclass
class PartState:
    """One budget of the ballot: its amount, what the ballot spends of it, what is left."""

    part: Part
    spent: int = 0

    @property
    def left(self) -> int:
        return self.part.amount_eur - self.spent


@dataclass
class BallotState:
    """What the ballot page shows its citizen."""

    budget: CallBudget
    parts: list[PartState]
    projects: list[Project]
    chosen: set[int] = field(default_factory=set)  # idea ids in the ballot
    confirmed_at: datetime | None = None
    open: bool = False

    @property
    def total(self) -> int:
        return sum(p.part.amount_eur for p in self.parts)

    @property
    def spent(self) -> int:
        return sum(p.spent for p in self.parts)

    @property
    def left(self) -> int:
        return self.total - self.spent

    @property
    def min_projects(self) -> int:
        """The rule's least number of projects, lowered to the most projects a ballot can hold
        within the budgets (the cheapest first in each budget, which is the most that fit): a
        rule no ballot can meet (fewer projects on the ballot than asked, or too costly
        together) would leave every ballot uncounted."""
        most = 0
        for state in self.parts:
            left = state.part.amount_eur
            for cost in sorted(p.cost for p in self.projects if p.part == state.part.key):
                if cost > left:
                    break
                left -= cost
                most += 1
        return min(self.budget.min_projects, most)

    @property
    def over(self) -> bool:
        """Whether the ballot spends more than one of its budgets (never by adding: a project
        came back or moved into it; see the module's docstring)."""
        return any(p.left < 0 for p in self.parts)

    @property
    def counts(self) -> bool:
        """Whether the ballot counts in the results: confirmed, and within every budget."""
        return self.confirmed_at is not None and not self.over

    def part_of(self, key: int | None) -> PartState | None:
        return next((p for p in self.parts if p.part.key == key), None)

    def why_not(self, project: Project) -> tuple[str, dict[str, object]] | None:
        """Why `project` cannot be added now (a msgid and its parameters), or None if it fits."""
        if project.idea.id in self.chosen:
            return None
        state = self.part_of(project.part)
        if state is None:
            return NO_PART, {}
        if project.cost > state.left:
            if state.part.key is None:
                return OVER_BUDGET, {"cost": euros(project.cost), "left": euros(state.left)}
            return OVER_PART, {"cost": euros(project.cost), "left": euros(state.left), "part": state.part.name}
        return None

    def refusal(self) -> tuple[str, dict[str, object]] | None:
        """Why the ballot cannot be confirmed as it is (a msgid and parameters), or None: empty,
        over a budget, fewer projects or less of the budget than the rules ask."""
        count = len(self.chosen)
        if count == 0:
            return EMPTY, {}
        # Adding never goes over, but a project moderators hid (freeing its money) and then
        # restored comes back into the ballot: such a ballot is not confirmed as it is.
        if self.over:
            return OVER_SPENT, {}
        if count < self.min_projects:
            return TOO_FEW, {"n": self.min_projects}
        needed = -(-self.total * self.budget.min_percent // 100)
        if self.spent < needed:
            return TOO_LITTLE, {"percent": self.budget.min_percent, "amount": euros(needed)}
        return None


def accepts_ballots(call: Call) -> bool:
    """Ballots are filled, changed and confirmed during the voting phase of a budget call."""
    return is_budget(call) and current_phase(call) == Phase.voting


def projects(session: Session, call: Call, budget: CallBudget) -> list[Project]:
    """The call's ideas on the ballot (published, visible, feasible, costed), by theme order of
    ids (the oldest first), each with the part of the budget it spends."""
    rows = session.exec(select(Idea, IdeaReview).join(IdeaReview, col(IdeaReview.idea_id) == Idea.id)
                        .where(Idea.call_id == call.id, *ballot_candidates()).order_by(col(Idea.id))).all()
    return [Project(idea, review, part_key(budget, district_id=idea.district_id, category_id=idea.category_id))
            for idea, review in rows]


def ballot_of(session: Session, *, call_id: int, user_id: int) -> Ballot | None:
    """The ballot of person `user_id` in call `call_id`, or None."""
    return session.exec(select(Ballot).where(Ballot.call_id == call_id, Ballot.user_id == user_id)).first()


def chosen_ids(session: Session, ballot: Ballot | None) -> set[int]:
    if ballot is None:
        return set()
    return set(session.exec(select(BallotItem.idea_id).where(BallotItem.ballot_id == ballot.id)).all())


def ballot_state(session: Session, *, call: Call, user: User | None) -> BallotState:
    """The ballot page's state for `user` (None: a visitor, who sees the projects and the
    budget). Raises NotFound when `call` is not a participatory budget."""
    budget = budget_of(session, call)
    if budget is None or not is_budget(call):
        raise NotFound()
    assert call.id is not None
    ballot = ballot_of(session, call_id=call.id, user_id=user.id) if user is not None and user.id else None
    listed = projects(session, call, budget)
    chosen = chosen_ids(session, ballot)
    states = [PartState(p) for p in parts(session, call, budget)]
    by_key = {s.part.key: s for s in states}
    for project in listed:
        if project.idea.id in chosen and project.part in by_key:
            by_key[project.part].spent += project.cost
    # A chosen project that left the ballot (hidden by moderation) spends nothing and is not shown.
    shown = {p.idea.id for p in listed}
    return BallotState(budget=budget, parts=states, projects=listed, chosen={i for i in chosen if i in shown},
                       confirmed_at=ballot.confirmed_at if ballot else None, open=accepts_ballots(call))


def _locked_state(session: Session, call: Call, user: User) -> BallotState:
    assert user.id is not None and call.id is not None
    lock_user(session, user.id)
    share_call(session, call.id)
    session.refresh(call)
    if not accepts_ballots(call):
        raise InvalidTransition(BALLOT_CLOSED)
    return ballot_state(session, call=call, user=user)


def _ballot_row(session: Session, call: Call, user: User) -> Ballot:
    assert call.id is not None and user.id is not None
    ballot = ballot_of(session, call_id=call.id, user_id=user.id)
    if ballot is None:
        try:
            with session.begin_nested():
                ballot = Ballot(call_id=call.id, user_id=user.id)
                session.add(ballot)
        except IntegrityError:  # cannot happen under the user's lock; the constraint stands behind it
            ballot = ballot_of(session, call_id=call.id, user_id=user.id)
            assert ballot is not None
    return ballot


def add_project(session: Session, *, call: Call, user: User, idea_id: int) -> BallotState:
    """Put idea `idea_id` in `user`'s ballot for `call`, which un-confirms the ballot. Returns
    the new state.

    Raises InvalidTransition (voting not open), Forbidden(NOT_ON_BALLOT) (not a feasible,
    costed, visible idea of this call), Conflict (already in the ballot; over the budget or the
    part's budget, with the cost and what is left; no part holds it)."""
    state = _locked_state(session, call, user)
    project = next((p for p in state.projects if p.idea.id == idea_id), None)
    if project is None:
        raise Forbidden(NOT_ON_BALLOT)
    if idea_id in state.chosen:
        raise Conflict(ALREADY_IN)
    refusal = state.why_not(project)
    if refusal is not None:
        message, params = refusal
        raise Conflict(message, **params)
    ballot = _ballot_row(session, call, user)
    try:
        with session.begin_nested():
            session.execute(insert(BallotItem).values(ballot_id=ballot.id, idea_id=idea_id, created_at=utcnow()))
    except IntegrityError as exc:
        raise Conflict(ALREADY_IN) from exc
    _changed(session, ballot)
    return ballot_state(session, call=call, user=user)


def remove_project(session: Session, *, call: Call, user: User, idea_id: int) -> BallotState:
    """Take idea `idea_id` out of `user`'s ballot (harmless when it is not in it); a change
    un-confirms the ballot. Raises InvalidTransition when voting is not open."""
    _locked_state(session, call, user)
    assert call.id is not None and user.id is not None
    ballot = ballot_of(session, call_id=call.id, user_id=user.id)
    if ballot is not None:
        removed = session.execute(delete(BallotItem).where(col(BallotItem.ballot_id) == ballot.id,
                                                           col(BallotItem.idea_id) == idea_id))
        if removed.rowcount:  # type: ignore[attr-defined]
            _changed(session, ballot)
    return ballot_state(session, call=call, user=user)


def confirm(session: Session, *, call: Call, user: User) -> BallotState:
    """Confirm `user`'s ballot: from now on it counts (until it changes). Raises
    InvalidTransition (voting not open) or Conflict (empty, over a budget once moderators restored
    a project they had hidden, fewer projects than the rule asks, less of the budget spent than
    the rule asks: with the numbers)."""
    state = _locked_state(session, call, user)
    refusal = state.refusal()
    if refusal is not None:
        message, params = refusal
        raise Conflict(message, **params)
    ballot = _ballot_row(session, call, user)
    ballot.confirmed_at = ballot.updated_at = utcnow()
    session.add(ballot)
    session.flush()
    return ballot_state(session, call=call, user=user)


def _changed(session: Session, ballot: Ballot) -> None:
    ballot.confirmed_at = None
    ballot.updated_at = utcnow()
    session.add(ballot)
    session.flush()


def confirmed_count(session: Session, call_id: int) -> int:
    """How many confirmed ballots `call_id` has (a public figure)."""
    return int(session.exec(select(func.count()).select_from(Ballot)
                            .where(Ballot.call_id == call_id, col(Ballot.confirmed_at).is_not(None))).one())


def holders(session: Session, idea_ids: list[int]) -> list[int]:
    """The people whose ballot holds one of `idea_ids`: a change that may put these projects
    back into ballots (or into another budget) locks them with the supporters, before the call
    and the ideas (app.locks order), so that no confirmation slips between the change and
    `recheck`."""
    if not idea_ids:
        return []
    return list(session.exec(select(Ballot.user_id).join(BallotItem, col(BallotItem.ballot_id) == Ballot.id)
                             .where(col(BallotItem.idea_id).in_(idea_ids)).distinct()).all())


def over_budget(session: Session, call: Call, budget: CallBudget, *,
                idea_ids: list[int] | None = None) -> dict[int, int]:
    """The confirmed ballots of `call` that spend more than one of its budgets, as {ballot id:
    user id}; with `idea_ids`, only among the ballots holding one of them. What a ballot spends
    is counted as its page counts it: its projects still on the ballot, at their cost, in the
    budget of their district or theme."""
    assert call.id is not None
    costs = {p.idea.id: (p.part, p.cost) for p in projects(session, call, budget)}
    amounts = {part.key: part.amount_eur for part in parts(session, call, budget)}
    query = (select(Ballot.id, Ballot.user_id, BallotItem.idea_id)
             .join(BallotItem, col(BallotItem.ballot_id) == Ballot.id)
             .where(Ballot.call_id == call.id, col(Ballot.confirmed_at).is_not(None)))
    if idea_ids is not None:
        query = query.where(col(Ballot.id).in_(select(BallotItem.ballot_id)
                                               .where(col(BallotItem.idea_id).in_(idea_ids))))
    spent: dict[tuple[int, int | None], int] = {}
    owners: dict[int, int] = {}
    for ballot_id, user_id, idea_id in session.exec(query).all():
        assert ballot_id is not None
        owners[ballot_id] = user_id
        if idea_id in costs and costs[idea_id][0] in amounts:
            key = (ballot_id, costs[idea_id][0])
            spent[key] = spent.get(key, 0) + costs[idea_id][1]
    over = {ballot_id for (ballot_id, part), amount in spent.items() if amount > amounts[part]}
    return {ballot_id: owners[ballot_id] for ballot_id in sorted(over)}


def recheck(session: Session, settings: Settings, *, call: Call, idea_ids: list[int]) -> list[int]:
    """After `idea_ids` (of `call`) came back on the ballot or moved to another district or
    theme: every confirmed ballot holding one of them that now spends more than a budget is
    un-confirmed (it does not count until its citizen removes a project and confirms again),
    and its citizen is told (notification kind "ballot", with the e-mail they chose for it).
    Call it after the change, with the ballots' citizens locked before (`holders`). Returns
    the ids of the people told; nothing for a call that is not a participatory budget."""
    budget = budget_of(session, call)
    if budget is None or not is_budget(call) or not idea_ids:
        return []
    session.flush()
    over = over_budget(session, call, budget, idea_ids=idea_ids)
    told = []
    now = utcnow()
    for ballot in session.exec(select(Ballot).where(col(Ballot.id).in_(list(over)))).all():
        ballot.confirmed_at = None
        ballot.updated_at = now
        session.add(ballot)
        person = session.get(User, ballot.user_id)
        if person is not None and notify_service.notify(
                session, settings, recipient=person, kind=NotificationKind.ballot, actor=None,
                link=links.path("budget:ballot", slug=call.slug, _anchor="ballot-summary"), subject=call.title,
                detail=RECONFIRM, call_id=call.id) is not None:
            told.append(ballot.user_id)
    session.flush()
    return told
