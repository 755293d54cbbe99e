"""A participatory budget's public pages: the ballot (fill, change, confirm: plain forms, in
place with static/js/ballot.js) and the results (page, CSV, JSON), which show counts only,
never who chose what."""

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app import i18n, links
from app.authz import Action, can, is_active, require_citizen, require_taking_part
from app.budget import ballot, results
from app.budget.money import euros
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.call.queries import visible_call_by_slug
from app.call.routes import csv_cell
from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import AppError, Forbidden, NotFound
from app.handlers import error_answer
from app.i18n import N_
from app.params import parse_id
from app.residents import service as residents
from app.residents.models import Part
from app.settings import Settings
from app.web import flash, redirect, render, wants_script

router = APIRouter(tags=["budget"], include_in_schema=False)
api = APIRouter(prefix="/api", tags=["open data"])

IdeaId = Annotated[str, Form(max_length=20)]
METHOD = N_("Projects are ranked by the number of confirmed ballots that chose them, then funded in that order "
            "while the budget lasts: a project that no longer fits in what is left is skipped, and cheaper "
            "projects below it may still be funded.")

ADDED = N_("The project is in your ballot. Confirm your ballot when it is complete.")
REMOVED = N_("The project is out of your ballot. Confirm your ballot again so that it counts.")
NOT_IN = N_("This project is not in your ballot: your ballot is unchanged.")
CONFIRMED = N_("Your ballot is confirmed: it counts. You may change it until voting closes.")
# A budget call's citizens fill ballots: app.authz.RESIDENTS_ONLY speaks of supporting ideas.
RESIDENTS_ONLY = N_("Only verified residents of the city may fill a ballot in this call. To get verified, open your "
                    "account page and verify that you live here with the city's sign-in service.")


@router.get("/calls/{slug}/ballot", name="budget:ballot")
def ballot_page(request: Request, session: DbSession, user: CurrentUser, slug: str) -> HTMLResponse:
    """The ballot: the projects with their cost, the money left, the confirmation. A citizen
    who may not vote in this call (verified residents only) reads why instead of the buttons."""
    call = visible_call_by_slug(session, slug, user)
    state = ballot.ballot_state(session, call=call, user=user)
    barred = None
    if user is not None and state.open and not can(user, Action.call_take_part,
                                                    residents.taking(session, user, call, Part.vote)):
        barred = RESIDENTS_ONLY
    return render(request, "budget/ballot.html", {
        "call": call, "state": state, "euros": euros, "signed_in": user is not None, "barred": barred,
    })


def _answer(request: Request, call: Call, state: ballot.BallotState, message: str, anchor: str) -> Response:
    if wants_script(request):
        return JSONResponse({"message": i18n.gettext(message), "left": euros(state.left),
                             "confirmed": state.confirmed_at is not None})
    return flash(request, redirect(links.path("budget:ballot", slug=call.slug, _anchor=anchor)), message, "success")


def _take_part(session: Any, voter: Any, call: Call) -> None:
    """`require_taking_part` for a ballot: Forbidden(RESIDENTS_ONLY), in the ballot's words, when
    the call is for verified residents and `voter` is not one."""
    taking = residents.taking(session, voter, call, Part.vote)
    if is_active(voter) and not can(voter, Action.call_take_part, taking):
        raise Forbidden(RESIDENTS_ONLY)
    require_taking_part(voter, taking)


def _act(request: Request, session: Any, user: Any, slug: str, idea_id: str, action: str) -> Response:
    call = visible_call_by_slug(session, slug, user)
    number = parse_id(idea_id) if idea_id else None
    anchor = f"project-{number}" if number else "ballot-summary"
    back = links.path("budget:ballot", slug=call.slug, _anchor=anchor)
    try:
        voter = require_citizen(user, Action.ballot_fill, call)
        if action == "confirm":
            _take_part(session, voter, call)
            residents.take_part(session, user=voter, call=call, part=Part.vote)
            state = ballot.confirm(session, call=call, user=voter)
            message = CONFIRMED
        elif number is None:
            raise NotFound()
        elif action == "add":
            _take_part(session, voter, call)
            state = ballot.add_project(session, call=call, user=voter, idea_id=number)
            message = ADDED
        else:
            state = ballot.remove_project(session, call=call, user=voter, idea_id=number)
            # Sent again (a second click, the back button): nothing changed, a confirmed ballot still counts.
            message = NOT_IN if state.confirmed_at is not None else REMOVED
    except AppError as exc:
        session.rollback()
        return error_answer(request, exc, back=back)
    session.commit()
    return _answer(request, call, state, message, anchor)


@router.post("/calls/{slug}/ballot/add", name="budget:add")
def add(request: Request, session: DbSession, user: CurrentUser, slug: str, idea_id: IdeaId = "") -> Response:
    return _act(request, session, user, slug, idea_id, "add")


@router.post("/calls/{slug}/ballot/remove", name="budget:remove")
def remove(request: Request, session: DbSession, user: CurrentUser, slug: str, idea_id: IdeaId = "") -> Response:
    return _act(request, session, user, slug, idea_id, "remove")


@router.post("/calls/{slug}/ballot/confirm", name="budget:confirm")
def confirm(request: Request, session: DbSession, user: CurrentUser, slug: str) -> Response:
    return _act(request, session, user, slug, "", "confirm")


def published_results(session: Any, slug: str, user: Any) -> tuple[Call, results.Results]:
    """The results of a budget call once published: in its results (or closed) phase, with the
    funded projects applied as its selection by its moderators. NotFound before."""
    call = visible_call_by_slug(session, slug, user)
    if current_phase(call) not in (Phase.results, Phase.closed) or not results.applied(session, call):
        raise NotFound()
    return call, results.compute(session, call, published=True)


@router.get("/calls/{slug}/budget-results", name="budget:results")
def results_page(request: Request, session: DbSession, user: CurrentUser, slug: str) -> HTMLResponse:
    call, computed = published_results(session, slug, user)
    return render(request, "budget/results.html", {"call": call, "results": computed, "euros": euros,
                                                   "method": METHOD, "preview": False})


def _rows(settings: Settings, computed: results.Results) -> list[dict[str, Any]]:
    return [{"part": part.part.name, "rank": row.rank, "idea_id": row.project.idea.id,
             "title": row.project.idea.title, "cost_eur": row.project.cost, "supports": row.supports,
             "funded": row.funded,
             "url": settings.absolute_url(links.idea_path(row.project.idea.id or 0))}
            for part in computed.parts for row in part.rows]


@router.get("/calls/{slug}/budget-results.csv", name="budget:results_csv")
def results_csv(session: DbSession, settings: AppSettings, user: CurrentUser, slug: str) -> Response:
    """The results as CSV: one row per project, with its cost in whole euros and whether it is
    funded (text cells neutralised against formula injection)."""
    call, computed = published_results(session, slug, user)
    out = io.StringIO()
    writer = csv.writer(out)
    headers = ["part", "rank", "idea_id", "title", "cost_eur", "supports", "funded", "url"]
    writer.writerow(headers)
    for row in _rows(settings, computed):
        writer.writerow([row[h] if isinstance(row[h], int) else csv_cell(str(row[h])) for h in headers])
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{call.slug}-budget-results.csv"'})


@api.get("/calls/{slug}/budget-results", name="budget:results_api")
def results_api(session: DbSession, settings: AppSettings, user: CurrentUser, slug: str) -> JSONResponse:
    """A published participatory budget's results: the budgets in whole euros, used and left,
    confirmed ballots, and each project's rank, cost, supports and funded status."""
    call, computed = published_results(session, slug, user)
    return JSONResponse({
        "call": call.slug, "currency": "EUR", "method": "greedy", "confirmed_ballots": computed.ballots,
        "budget_eur": computed.total, "used_eur": computed.used, "left_eur": computed.left,
        "budgets": [{"name": p.part.name, "budget_eur": p.part.amount_eur, "used_eur": p.used, "left_eur": p.left}
                    for p in computed.parts],
        "projects": _rows(settings, computed),
    })
