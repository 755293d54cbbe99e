"""A participatory budget's staff pages: the moderators' technical review queue, and the preview
of the results before they are applied to the call's selection and published (app.moderation's
publication page). The administrators' budget settings are on the call editor's form
(app.budget.settings_form); their former address leads there."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.budget import results, review, rules
from app.budget.models import BudgetScope
from app.budget.money import euros
from app.budget.routes import METHOD
from app.call import service as call_service
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.db import get_or_not_found
from app.deps import AdminUser, AppSettings, DbSession, ModeratorUser
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.idea.models import Idea
from app.moderation.admin_service import assigned_ids
from app.params import parse_number
from app.web import flash, redirect, render

router = APIRouter(tags=["budget"], include_in_schema=False)

Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=40)]


# --- Settings (administrators) -----------------------------------------------------------------

@router.get("/admin/calls/{call_id}/budget", name="budget:settings")
def settings_page(session: DbSession, _admin: AdminUser, call_id: int) -> Response:
    """The address of the budget's former page of its own: the settings are on the call
    editor's form now (app.budget.settings_form), where this leads."""
    call = call_service.get_call(session, call_id)
    return redirect(links.path("admin:call_edit", call_id=call.id, _anchor="budget"))


# --- Technical review (the call's moderators) -----------------------------------------------------

def _budget_call(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None or not rules.is_budget(call):
        raise NotFound()
    return call


def _queue(request: Request, session: Session, user: User, call: Call, *, todo: bool, page: int,
           errors: dict[int, dict[str, str]] | None = None, values: dict[int, dict[str, str]] | None = None,
           status_code: int = 200) -> HTMLResponse:
    assert call.id is not None
    assigned = assigned_ids(session, call.id)
    authz.require(user, Action.budget_review, authz.Moderated(call, assigned))
    queue = review.review_queue(session, call, todo=todo, page=page)
    allowed = {row.idea.id for row in queue.rows
               if authz.can(user, Action.budget_review, authz.Moderated(row.idea, assigned))}
    # With a split budget, an idea without a district (or theme) that has a budget never reaches the ballot.
    budget = rules.budget_of(session, call)
    held = {part.key for part in rules.parts(session, call, budget)} if budget is not None else set()
    off_ballot = {row.idea.id for row in queue.rows if budget is not None and budget.scope != BudgetScope.call
                  and rules.part_key(budget, district_id=row.idea.district_id,
                                     category_id=row.idea.category_id) not in held}
    return render(request, "budget/review.html", {
        "call": call, "queue": queue, "todo": todo, "allowed": allowed, "off_ballot": off_ballot,
        "errors": errors or {},
        "values": values or {}, "open": current_phase(call) in rules.OPEN_PHASES, "euros": euros,
    }, status_code=status_code)


@router.get("/moderation/calls/{call_id}/technical-review", name="budget:review_queue")
def review_queue(request: Request, session: DbSession, user: ModeratorUser, call_id: int, todo: str = "",
                 page: str = "1") -> HTMLResponse:
    """The call's published ideas with their review, 50 a page; `todo=1` keeps the un-reviewed."""
    call = _budget_call(session, call_id)
    return _queue(request, session, user, call, todo=todo == "1", page=parse_number(page, 10_000) or 1)


@router.post("/moderation/ideas/{idea_id}/technical-review", name="budget:review_save")
def review_save(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
                feasible: Short = "", cost: Short = "", explanation: Text = "", reason: Text = "",
                todo: Short = "", page: Short = "1") -> Response:
    idea = get_or_not_found(session, Idea, idea_id)
    call = _budget_call(session, idea.call_id)
    authz.require(user, Action.budget_review, authz.Moderated(idea, assigned_ids(session, idea.call_id)))
    page_number = parse_number(page, 10_000) or 1
    try:
        review.review_idea(session, settings, actor=user, idea=idea, call=call, feasible=feasible, reason=reason,
                           cost=cost, explanation=explanation)
    except ValidationFailed as exc:
        session.rollback()
        fresh = _budget_call(session, idea.call_id)
        typed = {"feasible": feasible, "cost": cost, "explanation": explanation, "reason": reason}
        return _queue(request, session, user, fresh, todo=todo == "1", page=page_number,
                      errors={idea_id: exc.errors}, values={idea_id: typed}, status_code=422)
    session.commit()
    # Back to the queue, at the next idea: a moderator reviews one after another from the keyboard.
    query = {"todo": "1"} if todo == "1" else {}
    if page_number > 1 and todo != "1":
        query["page"] = str(page_number)
    # Without the filter, back at the idea just reviewed; with it, that idea left the list and the
    # next one's first choice takes the focus (autofocus): no fragment then, since browsers skip
    # autofocus when the URL has one (HTML standard, "flush autofocus candidates").
    anchor = "" if todo == "1" else f"review-{idea_id}"
    location = links.path("budget:review_queue", call_id=call.id, _query=query, _anchor=anchor)
    return flash(request, redirect(location), N_("The technical review of “{title}” is saved."), "success",
                 title=idea.title)


# --- Results (preview and apply) ------------------------------------------------------------------

def _results_call(session: Session, user: User, call_id: int) -> Call:
    call = _budget_call(session, call_id)
    authz.require(user, Action.budget_results, authz.Moderated(call, assigned_ids(session, call_id)))
    return call


@router.get("/moderation/calls/{call_id}/budget-results", name="budget:results_preview")
def results_preview(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    """The results as they stand, for the call's moderators, before anything is public."""
    call = _results_call(session, user, call_id)
    return render(request, "budget/results.html", {
        "call": call, "results": results.compute(session, call), "euros": euros, "method": METHOD, "preview": True,
        "in_review": current_phase(call) == Phase.review,
    })


@router.post("/moderation/calls/{call_id}/budget-results", name="budget:results_apply")
def results_apply(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> Response:
    """Make the funded projects the call's selection, then go to the publication's confirmation."""
    call = _results_call(session, user, call_id)
    results.apply_funded(session, actor=user, call=call)
    session.commit()
    return flash(request, redirect(links.path("moderation:publish_results_confirm", call_id=call_id)),
                 N_("The funded projects are the call's selection. Publish the results to make them public."),
                 "success")
