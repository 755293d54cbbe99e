"""The results of a participatory budget: the standard greedy method.

In each budget (the call's, or each district's or theme's), the projects on the ballot are
ranked by the confirmed ballots that chose them (most first; ties: the cheaper first, then the
oldest idea), and funded in that order while the budget lasts: a project that no longer fits is
skipped, and cheaper ones below it may still be funded. Only confirmed ballots within every
budget count (a confirmed ballot a restored project put over a budget does not:
app.budget.ballot.over_budget), and a project that no such ballot chose is never funded (what is
left stays unspent).

Moderators preview the result during the review phase and apply it: the funded projects become
the call's selection (winners), which they publish through the results flow every call uses
(app.moderation.results); the public results page and the CSV and JSON read this module, with
the funded status of the published selection (`compute(..., published=True)`), so that what the
public reads never drifts from the city's selection when an idea is hidden or withdrawn later."""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app import audit
from app.account.models import User
from app.budget.ballot import Project, confirmed_count, over_budget, projects
from app.budget.models import Ballot, BallotItem, CallBudget
from app.budget.rules import Part, budget_of, is_budget, parts
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import InvalidTransition, NotFound
from app.i18n import N_
from app.idea.models import Idea

APPLY_IN_REVIEW = N_("The funded projects are applied during the review phase, before the results are published.")


@dataclass
class Row:
    """One project in the ranking: its supports (confirmed ballots), whether it is funded, and
    the rank within its budget (1 = most supported)."""

    project: Project
    supports: int
    funded: bool
    rank: int


@dataclass
class PartResult:
    part: Part
    rows: list[Row]

    @property
    def used(self) -> int:
        return sum(r.project.cost for r in self.rows if r.funded)

    @property
    def left(self) -> int:
        return self.part.amount_eur - self.used


@dataclass
class Results:
    budget: CallBudget
    parts: list[PartResult]
    ballots: int  # confirmed ballots that count (within every budget)

    @property
    def total(self) -> int:
        return sum(p.part.amount_eur for p in self.parts)

    @property
    def used(self) -> int:
        return sum(p.used for p in self.parts)

    @property
    def left(self) -> int:
        return self.total - self.used

    def funded_ids(self) -> list[int]:
        return [r.project.idea.id for p in self.parts for r in p.rows if r.funded and r.project.idea.id]


def supports(session: Session, call_id: int, *, excluded: frozenset[int] = frozenset()) -> dict[int, int]:
    """Confirmed ballots per idea of `call_id` ({idea id: count}), leaving out the ballots
    `excluded` (ids: those over a budget); unconfirmed ballots count for nothing."""
    query = (select(BallotItem.idea_id, func.count()).join(Ballot, col(Ballot.id) == BallotItem.ballot_id)
             .where(Ballot.call_id == call_id, col(Ballot.confirmed_at).is_not(None)))
    if excluded:
        query = query.where(col(Ballot.id).not_in(sorted(excluded)))
    rows = session.exec(query.group_by(col(BallotItem.idea_id))).all()
    return {int(i): int(n) for i, n in rows}


def greedy(amount_eur: int, ranked: list[tuple[Project, int]]) -> list[Row]:
    """Fund `ranked` (projects with their supports, already in ranking order) greedily within
    `amount_eur` whole euros: each project that fits in what is left is funded, one that does
    not is skipped, and the next ones are still tried. A project with no support (no confirmed
    ballot chose it) is not funded, whatever is left."""
    left = amount_eur
    rows = []
    for rank, (project, count) in enumerate(ranked, start=1):
        funded = count > 0 and project.cost <= left
        if funded:
            left -= project.cost
        rows.append(Row(project, count, funded, rank))
    return rows


def compute(session: Session, call: Call, *, published: bool = False) -> Results:
    """The greedy results of `call` from its confirmed ballots, budget by budget. With
    `published`, a project is funded when it is in the call's applied selection (`Idea.winner`,
    set by `apply_funded`) rather than by computing again: the public pages show what the city
    selected. Raises NotFound when `call` is not a participatory budget."""
    budget = budget_of(session, call)
    if budget is None or not is_budget(call):
        raise NotFound()
    assert call.id is not None
    invalid = frozenset(over_budget(session, call, budget))
    counts = supports(session, call.id, excluded=invalid)
    listed = projects(session, call, budget)
    result = []
    for part in parts(session, call, budget):
        mine = [(p, counts.get(p.idea.id or 0, 0)) for p in listed if p.part == part.key]
        mine.sort(key=lambda pc: (-pc[1], pc[0].cost, pc[0].idea.id or 0))
        rows = greedy(part.amount_eur, mine)
        if published:
            for row in rows:
                row.funded = bool(row.project.idea.winner)
        result.append(PartResult(part, rows))
    return Results(budget, result, confirmed_count(session, call.id) - len(invalid))


def applied(session: Session, call: Call) -> bool:
    """Whether the moderators applied the results of `call` (it has a selection): until then the
    public sees none, even once the clock reaches the results phase."""
    return session.exec(select(Idea.id).where(Idea.call_id == call.id, col(Idea.winner).is_(True))).first() is not None


def apply_funded(session: Session, *, actor: User, call: Call) -> Results:
    """Make the funded projects `call`'s selection (winners and shortlisted; every other idea
    of the call neither), during the review phase; the moderators then publish the results as
    for every call. Audited (`budget_apply`, with the funded ids and the amounts).

    Raises InvalidTransition outside the review phase, NotFound for a call without a budget."""
    session.refresh(call, with_for_update=True)
    if current_phase(call) != Phase.review:
        raise InvalidTransition(APPLY_IN_REVIEW)
    results = compute(session, call)
    funded = set(results.funded_ids())
    now = utcnow()
    for idea in session.exec(select(Idea).where(Idea.call_id == call.id)
                             .where(col(Idea.winner).is_(True) | col(Idea.shortlisted).is_(True)
                                    | col(Idea.id).in_(funded))).all():
        chosen = idea.id in funded
        if idea.winner != chosen or idea.shortlisted != chosen:
            idea.winner = idea.shortlisted = chosen
            idea.updated_at = now
            session.add(idea)
    assert call.id is not None
    audit.record(session, actor=actor, action=audit.AuditAction.budget_apply, target_type=audit.TargetType.call,
                 target_id=call.id, details={"funded": sorted(funded), "used_eur": results.used,
                                             "left_eur": results.left, "ballots": results.ballots})
    return results
