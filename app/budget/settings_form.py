"""The participatory budget's settings on the call editor's own form (app.call.admin): the
voting mode, the budget (one, or one per district or theme) and the rules of a valid ballot,
read from the form, shown with the call's other fields, and saved with them in one transaction
by `app.budget.rules.save_budget`."""

from typing import Any

from fastapi import Request
from sqlmodel import Session

from app.budget import rules
from app.budget.models import SCOPE_LABELS, BudgetScope
from app.call.models import Call, VotingMode
from app.call.phases import current_phase
from app.i18n import N_
from app.params import parse_number

MODE_LABELS = {VotingMode.supports: N_("Supports: citizens support the ideas they like"),
               VotingMode.budget: N_("Participatory budget: citizens choose costed projects within a budget")}

FIELD_MAX = 40  # characters kept of each budget field (amounts, counts, choices)


async def read_form(request: Request) -> rules.BudgetInput | None:
    """The budget's fields of the call editor's form (a route dependency: the district and
    theme amounts have names of their own, "district_<id>" / "theme_<id>"), or None when the
    form has no voting mode: the budget's fieldset was not sent (it is disabled once the
    settings can no longer change), and the call keeps its settings."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name, "")
        return value[:FIELD_MAX] if isinstance(value, str) else ""

    if "voting_mode" not in form:
        return None
    scope = text("scope")
    prefix = rules.share_field(scope, 0).removesuffix("0")  # only the chosen split's amounts are read
    shares: dict[int, str] = {}
    for name in form:
        key = parse_number(name.removeprefix(prefix), 2**31 - 1) if name.startswith(prefix) else None
        if key is not None:
            shares[key] = text(name)
    return rules.BudgetInput(voting_mode=text("voting_mode"), scope=scope, total=text("total"),
                             min_projects=text("min_projects"), min_percent=text("min_percent"), shares=shares)


def values_of(session: Session, call: Call | None) -> dict[str, Any]:
    """The budget's fields as saved for `call` (a new call: supports, nothing set), as the
    form shows them: amounts as typed digits, shares by district or theme id."""
    values: dict[str, Any] = {"voting_mode": call.voting_mode if call else VotingMode.supports,
                              "scope": BudgetScope.call, "total": "", "min_projects": "0", "min_percent": "0",
                              "shares": {}}
    budget = rules.budget_of(session, call) if call is not None and call.id is not None else None
    if budget is not None:
        values.update(scope=budget.scope, total=str(budget.total_eur) if budget.scope == BudgetScope.call else "",
                      min_projects=str(budget.min_projects), min_percent=str(budget.min_percent),
                      shares={(s.district_id or s.category_id): str(s.amount_eur)
                              for s in rules.shares_of(session, budget.call_id)})
    return values


def typed_values(data: rules.BudgetInput) -> dict[str, Any]:
    """The budget's fields as the administrator typed them, to show the form again."""
    return {"voting_mode": data.voting_mode, "scope": data.scope, "total": data.total,
            "min_projects": data.min_projects, "min_percent": data.min_percent, "shares": data.shares}


def context(session: Session, call: Call | None) -> dict[str, Any]:
    """What the call editor's template needs for the budget's fieldsets: the choices, the
    districts and the call's themes to split by, and whether the settings are locked (voting
    has started: the fieldsets are shown disabled, so they are not sent)."""
    scratch = call if call is not None else Call(slug="", title="")
    return {
        "mode_choices": list(MODE_LABELS.items()), "scope_choices": list(SCOPE_LABELS.items()),
        "budget_districts": rules.part_choices(session, scratch, BudgetScope.district),
        "budget_categories": rules.part_choices(session, scratch, BudgetScope.category) if call and call.id else [],
        "budget_locked": call is not None and call.id is not None and current_phase(call) not in rules.OPEN_PHASES,
    }
