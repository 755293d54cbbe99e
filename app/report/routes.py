"""Reporting an idea or a comment: a short form with a reason."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import links
from app.account.models import User
from app.authz import Action, require_citizen
from app.call.models import Call
from app.comment.models import Comment
from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import AppError, NotFound, ValidationFailed
from app.i18n import N_
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.report import service
from app.report.models import REASON_LABELS
from app.submission import service as submission
from app.submission.models import FormSubmission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render, wants_script
from app.web_answers import done, refuse

router = APIRouter(tags=["report"], include_in_schema=False)

Reason = Annotated[str, Form(max_length=30)]
Details = Annotated[str, Form(max_length=4000)]
THANKS = N_("Thank you. A moderator will look at your report.")


def _page(request: Request, *, idea: Idea, comment: Comment | None, values: dict[str, Any],
          errors: dict[str, str], status_code: int = 200) -> Response:
    return render(request, "report/form.html", {
        "idea": idea, "comment": comment, "values": values, "errors": errors,
        "reasons": list(REASON_LABELS.items()),
    }, status_code=status_code)


def _after(request: Request, session: Session, sent: submission.Claim, idea: Idea, call: Call,
           target: str) -> Response:
    """Commit the report and thank its author on `target`, or on the call's page when the idea
    was hidden by this very report (its reporter can no longer see it)."""
    session.refresh(idea)
    if idea.hidden_at is not None:
        target = links.call_path(call.slug)
    submission.settle(session, sent, location=target, message=THANKS)
    session.commit()
    return flash(request, redirect(target), THANKS, "success")


def _again(request: Request, earlier: FormSubmission, idea_id: int) -> Response:
    """A report sent twice: thanked again, as the first time."""
    if wants_script(request):
        return done(request, idea_id, "", THANKS)
    return replay(request, earlier)


@router.get("/ideas/{idea_id}/report", name="report:idea")
def idea_form(request: Request, session: DbSession, user: CurrentUser, idea_id: int) -> Response:
    idea, _call = idea_queries.visible_idea(session, idea_id, user)
    try:
        require_citizen(user, Action.report_create, idea)
    except AppError as exc:
        return refuse(request, exc, idea_id, "")
    return _page(request, idea=idea, comment=None, values={}, errors={})


@router.post("/ideas/{idea_id}/report", name="report:file_idea")
def report_idea(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int,
                reason: Reason = "", details: Details = "", form_token: FormToken = "") -> Response:
    try:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        reporter = require_citizen(user, Action.report_create, idea)
        sent = submission.claim(session, token=form_token, form="report:idea", user_id=reporter.id,
                                content=[idea_id, reason, details])
        if sent.earlier is not None:
            return _again(request, sent.earlier, idea_id)
        service.report_idea(session, settings, idea=idea, call=call, reporter=reporter, reason=reason,
                            details=details)
    except ValidationFailed as exc:
        if wants_script(request):
            return refuse(request, exc, idea_id, "")
        return _page(request, idea=idea, comment=None,
                     values={"reason": reason, "details": details}, errors=exc.errors, status_code=422)
    except AppError as exc:
        return refuse(request, exc, idea_id, "")
    if wants_script(request):
        submission.settle(session, sent, location=links.idea_path(idea_id), message=THANKS)
        session.commit()
        return done(request, idea_id, "", THANKS)
    return _after(request, session, sent, idea, call, links.idea_path(idea_id))


def _comment(session: Session, user: User | None, comment_id: int) -> tuple[Comment, Idea, Call]:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound()
    idea, call = idea_queries.visible_idea(session, comment.idea_id, user)
    return comment, idea, call


@router.get("/comments/{comment_id}/report", name="report:comment")
def comment_form(request: Request, session: DbSession, user: CurrentUser, comment_id: int) -> Response:
    comment, idea, _call = _comment(session, user, comment_id)
    try:
        require_citizen(user, Action.report_create, comment)
    except AppError as exc:
        return refuse(request, exc, comment.idea_id, f"comment-{comment_id}")
    return _page(request, idea=idea, comment=comment, values={}, errors={})


@router.post("/comments/{comment_id}/report", name="report:file_comment")
def report_comment(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
                   comment_id: int, reason: Reason = "", details: Details = "",
                   form_token: FormToken = "") -> Response:
    comment, idea, call = _comment(session, user, comment_id)
    try:
        reporter = require_citizen(user, Action.report_create, comment)
        sent = submission.claim(session, token=form_token, form="report:comment", user_id=reporter.id,
                                content=[comment_id, reason, details])
        if sent.earlier is not None:
            return _again(request, sent.earlier, comment.idea_id)
        service.report_comment(session, settings, comment=comment, idea=idea, call=call, reporter=reporter,
                               reason=reason, details=details)
    except ValidationFailed as exc:
        if wants_script(request):
            return refuse(request, exc, comment.idea_id, "")
        return _page(request, idea=idea, comment=comment,
                     values={"reason": reason, "details": details}, errors=exc.errors, status_code=422)
    except AppError as exc:
        return refuse(request, exc, comment.idea_id, f"comment-{comment_id}")
    if wants_script(request):
        submission.settle(session, sent, location=links.idea_path(comment.idea_id), message=THANKS)
        session.commit()
        return done(request, comment.idea_id, "", THANKS)
    session.refresh(comment)
    target = (links.comment_path(comment.idea_id, comment_id) if comment.hidden_at is None
              else links.idea_path(comment.idea_id))
    return _after(request, session, sent, idea, call, target)
