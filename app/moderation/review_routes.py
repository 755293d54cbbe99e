"""Moderator pages about a call's outcome: the review of its ideas (shortlist, winners, jury
notes) and the publication of its results."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.call import service as call_service
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.deps import AppSettings, DbSession, ModeratorUser
from app.errors import ValidationFailed
from app.i18n import N_
from app.idea.models import ANSWER_LABELS
from app.intake import service as intake_service
from app.intake.models import CHANNEL_LABELS
from app.moderation import admin_service, results
from app.moderation.fields import Short, Text
from app.moderation.routes import idea_to_decide
from app.web import flash, redirect, render

router = APIRouter(prefix="/moderation", tags=["moderation"], include_in_schema=False)


def _review(request: Request, session: Session, user: User, call: Call,
            errors: dict[int, dict[str, str]] | None = None, status_code: int = 200) -> HTMLResponse:
    assert call.id is not None
    ideas = results.review_ranking(session, call)
    assigned = admin_service.assigned_ids(session, call.id)
    allowed = {i.id for i in ideas if authz.can(user, Action.moderation_decide, authz.Moderated(i, assigned))}
    return render(request, "moderation/review.html", {
        "call": call, "phase": current_phase(call), "Phase": Phase, "ideas": ideas, "allowed": allowed,
        "answer_labels": ANSWER_LABELS, "errors": errors or {}, "target": authz.Moderated(call, assigned),
        "counts": intake_service.channel_counts(session, call.id), "channel_labels": CHANNEL_LABELS,
        "intake_open": intake_service.takes_intake(call),
    }, status_code=status_code)


@router.get("/calls/{call_id}/review", name="moderation:review")
def review_page(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    return _review(request, session, user, call_service.get_call(session, call_id))


def _results_call(session: Session, user: User, call_id: int) -> Call:
    call = call_service.get_call(session, call_id)
    authz.require(user, Action.results_publish, authz.Moderated(call, admin_service.assigned_ids(session, call_id)))
    return call


@router.get("/calls/{call_id}/publish-results", name="moderation:publish_results_confirm")
def publish_results_confirm(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    """The confirmation of a publication, naming what becomes public and who is told: it cannot
    be undone (the call moves to its results phase)."""
    call = _results_call(session, user, call_id)
    winners, shortlisted = results.selection(session, call)
    return render(request, "moderation/publish_results.html", {
        "call": call, "winners": winners, "shortlisted": [i for i in shortlisted if not i.winner],
        "in_review": current_phase(call) == Phase.review, "no_winner": results.NO_WINNER,
    })


@router.post("/calls/{call_id}/publish-results", name="moderation:publish_results")
def publish_results(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser,
                    call_id: int, confirm: Annotated[str, Form()] = "") -> Response:
    call = _results_call(session, user, call_id)
    if confirm != "yes":  # one tap on an old review page, or a forged form: the confirmation first
        return redirect(links.path("moderation:publish_results_confirm", call_id=call_id))
    results.publish_results(session, actor=user, call=call, settings=settings)
    session.commit()
    return flash(request, redirect(links.path("moderation:review", call_id=call_id)),
                 N_("The results of “{title}” are published."), "success", title=call.title)


@router.post("/ideas/{idea_id}/selection", name="moderation:selection")
def selection(request: Request, session: DbSession, user: ModeratorUser, idea_id: int, shortlisted: Short = "",
              winner: Short = "", jury_note: Text = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    call = session.get(Call, idea.call_id)
    assert call is not None
    try:
        results.set_selection(session, actor=user, idea=idea, call=call, shortlisted=bool(shortlisted),
                              winner=bool(winner), jury_note=jury_note)
    except ValidationFailed as exc:
        session.rollback()
        return _review(request, session, user, call, errors={idea_id: exc.errors}, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("moderation:review", call_id=call.id, _anchor=f"idea-{idea_id}")),
                 N_("The selection of “{title}” is saved."), "success", title=idea.title)
