"""A call's voting mode, budget and ballot rules, set by administrators (app.budget.staff_routes),
and reading them back for every other part of the budget."""

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app import audit, contentlang
from app.account.models import User
from app.budget.models import Ballot, BallotItem, BudgetScope, BudgetShare, CallBudget
from app.budget.money import MAX_EUR, parse_euros
from app.call.models import Call, Category, District, Phase, VotingMode
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import N_
from app.locks import lock_call
from app.vote.models import Vote

LOCKED = N_("The voting mode, the budget and its rules can no longer change: voting has started.")
HAS_SUPPORTS = N_("This call already has supports: it cannot become a participatory budget.")
ENTER_AMOUNT = N_("Enter a whole number of euros, without cents (for example 250000).")
ENTER_TOTAL = N_("Enter the budget: a whole number of euros greater than zero.")
ENTER_SHARE = N_("Give at least one district or theme a budget greater than zero.")
ENTER_COUNT = N_("Enter a whole number from 0 to 1000.")
ENTER_PERCENT = N_("Enter a percentage from 0 to 100.")
CHOOSE = N_("Choose one of the options.")
NO_PARTS = N_("There is nothing to split the budget by: add districts or themes first.")
BALLOTS_FILLED = N_("Citizens have already filled ballots against this budget and its rules: they can no longer "
                    "change.")

# Phases during which the budget may still change: no ballot exists yet.
OPEN_PHASES = frozenset({Phase.draft, Phase.submissions, Phase.technical_review})


@dataclass
class BudgetInput:
    """The settings form as typed (amounts are read here, so errors speak of the field)."""

    voting_mode: str = VotingMode.supports
    scope: str = BudgetScope.call
    total: str = ""
    min_projects: str = "0"
    min_percent: str = "0"
    shares: dict[int, str] = field(default_factory=dict)  # district or theme id -> amount typed


@dataclass
class Part:
    """One budget a ballot spends: the whole call (`key` None) or one district or theme."""

    key: int | None
    name: str
    amount_eur: int


def is_budget(call: Call) -> bool:
    """Whether `call` votes with a participatory budget's ballots."""
    return call.voting_mode == VotingMode.budget


def budget_of(session: Session, call: Call) -> CallBudget | None:
    """The budget row of `call`, or None when none was ever set."""
    return session.get(CallBudget, call.id)


def shares_of(session: Session, call_id: int) -> list[BudgetShare]:
    return list(session.exec(select(BudgetShare).where(BudgetShare.call_id == call_id)
                             .order_by(col(BudgetShare.id))).all())


def part_choices(session: Session, call: Call, scope: str) -> list[tuple[int, str]]:
    """What a split budget is split by: [(id, name)] of the districts (shared by every call) or
    of the call's themes, in their order, named in the reader's language (app.contentlang)."""
    rows: list[District] | list[Category]
    if scope == BudgetScope.district:
        rows = list(session.exec(select(District).order_by(col(District.position), col(District.id))).all())
    elif scope == BudgetScope.category:
        rows = list(session.exec(select(Category).where(Category.call_id == call.id)
                                 .order_by(col(Category.position), col(Category.id))).all())
    else:
        return []
    return [(row.id or 0, contentlang.plain(row, "name")) for row in rows]


def parts(session: Session, call: Call, budget: CallBudget) -> list[Part]:
    """The budgets a ballot of `call` spends: the call's, or one per district or theme that has
    an amount (the others take no project)."""
    if budget.scope == BudgetScope.call:
        return [Part(None, "", budget.total_eur)]
    names = dict(part_choices(session, call, budget.scope))
    result = []
    for share in shares_of(session, budget.call_id):
        key = share.district_id if budget.scope == BudgetScope.district else share.category_id
        if key is not None and key in names and share.amount_eur > 0:
            result.append(Part(key, names[key], share.amount_eur))
    order = list(names)
    return sorted(result, key=lambda p: order.index(p.key) if p.key in order else 0)


def part_key(budget: CallBudget, *, district_id: int | None, category_id: int | None) -> int | None:
    """Which of the budget's parts an idea spends: none for one budget, else its district or
    theme (None when it has none: then no part holds it)."""
    if budget.scope == BudgetScope.district:
        return district_id
    if budget.scope == BudgetScope.category:
        return category_id
    return None


def share_field(scope: str, key: int) -> str:
    """The form field of the budget of district or theme `key` ("district_3", "theme_3")."""
    return f"{'district' if scope == BudgetScope.district else 'theme'}_{key}"


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text:
        return 0
    if text.isascii() and text.isdigit() and len(text) < 8 and low <= int(text) <= high:
        return int(text)
    return None


@dataclass
class _Parsed:
    errors: dict[str, str]
    total: int = 0
    amounts: dict[int, int] = field(default_factory=dict)
    min_projects: int | None = 0
    min_percent: int | None = 0


def _parse(session: Session, call: Call, data: BudgetInput) -> _Parsed:
    errors: dict[str, str] = {}
    if data.voting_mode not in set(VotingMode):
        return _Parsed({"voting_mode": CHOOSE})
    if data.scope not in set(BudgetScope):
        errors["scope"] = CHOOSE
    min_projects = _whole(data.min_projects, 0, 1000)
    min_percent = _whole(data.min_percent, 0, 100)
    if min_projects is None:
        errors["min_projects"] = ENTER_COUNT
    if min_percent is None:
        errors["min_percent"] = ENTER_PERCENT
    total = 0
    amounts: dict[int, int] = {}
    if data.scope == BudgetScope.call:
        parsed = parse_euros(data.total)
        if parsed is None or parsed <= 0:
            errors["total"] = ENTER_TOTAL
        else:
            total = parsed
    elif data.scope in set(BudgetScope):
        choices = dict(part_choices(session, call, data.scope))
        if not choices:
            errors["shares"] = NO_PARTS
        for key in choices:
            typed = data.shares.get(key, "").strip()
            amount = parse_euros(typed) if typed else 0
            if amount is None:
                errors[share_field(data.scope, key)] = ENTER_AMOUNT
            else:
                amounts[key] = amount
        total = sum(amounts.values())
        if choices and not errors and total <= 0:
            errors["shares"] = ENTER_SHARE
        if total > MAX_EUR:
            errors["shares"] = ENTER_AMOUNT
    if data.voting_mode != VotingMode.budget:
        errors = {}  # the budget's fields are not read for a call voting with supports
    return _Parsed(errors, total, amounts, min_projects, min_percent)


def budget_errors(session: Session, call: Call | None, data: BudgetInput) -> dict[str, str]:
    """The errors of the budget's fields as typed ({field: msgid}, the same as `save_budget`
    raises for them; empty when valid), without writing: the call editor reports them with its
    other fields' at once. `call` None: a call being created (no themes yet)."""
    return _parse(session, call if call is not None else Call(slug="", title=""), data).errors


def save_budget(session: Session, *, actor: User, call: Call, data: BudgetInput) -> CallBudget:
    """Set `call`'s voting mode and, for a budget, its scope, amounts (whole euros) and ballot
    rules; audited (`budget_save`, before and after). Settings equal to the saved ones change
    nothing and are not checked against the phase (the call editor sends them with every save).
    A change only before voting starts (draft, submissions or technical review) and while no
    ballot holds a project (a phase moved back by hand), since ballots are filled against these
    amounts.

    Raises ValidationFailed with one message per field: "voting_mode" (locked, ballots filled,
    supports already given, unknown), "scope", "total", "district_<id>" or "theme_<id>" (`share_field`) / "shares",
    "min_projects", "min_percent"."""
    assert call.id is not None
    lock_call(session, call.id)
    session.refresh(call)
    parsed = _parse(session, call, data)
    if parsed.errors:
        raise ValidationFailed(parsed.errors)
    total, amounts = parsed.total, parsed.amounts
    min_projects, min_percent = parsed.min_projects, parsed.min_percent
    budget = budget_of(session, call)
    before = {"voting_mode": call.voting_mode, **(_snapshot(session, budget) if budget else {})}
    wanted: dict[str, object] = {"voting_mode": data.voting_mode}
    if data.voting_mode == VotingMode.budget:
        wanted.update(scope=data.scope, total_eur=total, min_projects=min_projects or 0,
                      min_percent=min_percent or 0, shares={str(k): v for k, v in amounts.items() if v > 0})
    if all(before.get(k) == v for k, v in wanted.items()):
        return budget if budget is not None else CallBudget(call_id=call.id)  # nothing changes: nothing to check
    if current_phase(call) not in OPEN_PHASES:
        raise ValidationFailed({"voting_mode": LOCKED})
    if session.exec(select(Ballot.id).where(Ballot.call_id == call.id)
                    .where(col(Ballot.id).in_(select(BallotItem.ballot_id)))).first() is not None:
        # The phase was moved back by hand: ballots filled against these amounts stand.
        raise ValidationFailed({"voting_mode": BALLOTS_FILLED})
    if data.voting_mode == VotingMode.budget and session.exec(select(Vote.id).where(Vote.call_id == call.id)).first():
        raise ValidationFailed({"voting_mode": HAS_SUPPORTS})
    call.voting_mode = data.voting_mode
    call.updated_at = utcnow()
    session.add(call)
    if data.voting_mode == VotingMode.budget:
        if budget is None:
            budget = CallBudget(call_id=call.id)
        budget.scope, budget.total_eur = data.scope, total
        budget.min_projects, budget.min_percent = min_projects or 0, min_percent or 0
        budget.updated_at = utcnow()
        session.add(budget)
        for share in shares_of(session, call.id):
            session.delete(share)
        session.flush()
        for key, amount in amounts.items():
            if amount <= 0:
                continue  # a district or theme without a budget takes no project (`parts`)
            session.add(BudgetShare(call_id=call.id, amount_eur=amount,
                                    district_id=key if data.scope == BudgetScope.district else None,
                                    category_id=key if data.scope == BudgetScope.category else None))
        session.flush()
    after = {"voting_mode": call.voting_mode, **(_snapshot(session, budget) if budget else {})}
    audit.record(session, actor=actor, action=audit.AuditAction.budget_save, target_type=audit.TargetType.call,
                 target_id=call.id, details={"before": before, "after": after})
    assert budget is not None or data.voting_mode != VotingMode.budget
    return budget if budget is not None else CallBudget(call_id=call.id)


def _snapshot(session: Session, budget: CallBudget) -> dict[str, object]:
    return {"scope": budget.scope, "total_eur": budget.total_eur, "min_projects": budget.min_projects,
            "min_percent": budget.min_percent,
            "shares": {str(s.district_id or s.category_id): s.amount_eur for s in shares_of(session, budget.call_id)
                       if s.amount_eur > 0}}
