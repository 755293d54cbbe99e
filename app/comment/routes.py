"""Comment pages: post, reply, edit within the window, delete. The idea page shows the
threads and the main form; replying and editing have their own small pages, so everything
works without JavaScript."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from app import authz, i18n, links
from app.account.models import User
from app.authz import Action, require_citizen
from app.call.models import Call
from app.comment import service
from app.comment.models import MAX_LENGTH, Comment
from app.db import get_or_not_found
from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import AppError, NotFound, RateLimited, ValidationFailed
from app.i18n import N_
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.params import parse_id
from app.submission import service as submission
from app.submission.web import FormToken
from app.web import flash, redirect, render, wants_script
from app.web_answers import done, refuse

router = APIRouter(tags=["comment"], include_in_schema=False)

ANCHOR = "comments"
Body = Annotated[str, Form(max_length=MAX_LENGTH * 2)]


def _parse_id(value: str) -> int | None:
    # A number past what an id column holds names no comment: 0, which never exists.
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return parse_id(value) or 0


def _reply_target(session: Session, idea: Idea, comment_id: int | None) -> Comment | None:
    """The comment being answered, only if it belongs to this idea: the form quotes it, so a
    comment of another (perhaps private) idea must never be loaded here."""
    parent = session.get(Comment, comment_id) if comment_id else None
    return parent if parent is not None and parent.idea_id == idea.id else None


def _comment_and_idea(session: Session, user: User | None, comment_id: int) -> tuple[Comment, Idea, Call]:
    comment = get_or_not_found(session, Comment, comment_id)
    idea, call = idea_queries.visible_idea(session, comment.idea_id, user)
    return comment, idea, call


def _form_page(request: Request, *, idea: Idea, mode: str, values: dict[str, Any], errors: dict[str, str],
               reply_to: Comment | None = None, comment: Comment | None = None, status_code: int = 200) -> Response:
    return render(request, "comment/form.html", {
        "idea": idea, "mode": mode, "values": values, "errors": errors, "reply_to": reply_to,
        "comment": comment, "max_length": MAX_LENGTH,
    }, status_code=status_code)


@router.post("/ideas/{idea_id}/comments", name="comment:create")
def create(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int,
           body: Body = "", parent_id: Annotated[str, Form(max_length=20)] = "",
           language: Annotated[str, Form(max_length=10)] = "", form_token: FormToken = "") -> Response:
    reply_to_id = _parse_id(parent_id)
    try:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        author = require_citizen(user, Action.comment_create, idea)
        # Sent twice (a double tap, the script's fallback to a plain post): one comment.
        sent = submission.claim(session, token=form_token, form="comment", user_id=author.id,
                                content=[idea_id, parent_id, body])
        if sent.earlier is not None:
            earlier = sent.earlier
            return _posted(request, earlier.object_id, earlier.location, earlier.message, earlier.category)
        comment = service.create_comment(session, settings, idea=idea, call=call, author=author,
                                         body=body, parent_id=reply_to_id, language=language)
    except (ValidationFailed, RateLimited) as exc:
        if wants_script(request):
            return refuse(request, exc, idea_id, ANCHOR)
        # The form again with the text typed: what was wrong, or how long to wait (429).
        reply_to = _reply_target(session, idea, reply_to_id)
        page = _form_page(request, idea=idea, mode="reply" if reply_to else "new",
                          values={"body": body, "language": language},
                          errors=exc.errors if isinstance(exc, ValidationFailed) else {"body": exc.message},
                          reply_to=reply_to, status_code=exc.status_code)
        if isinstance(exc, RateLimited):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    assert comment.id is not None
    if comment.hidden_at is not None:  # held for review (app.posting_policy)
        location, category = links.idea_path(idea_id), "info"
        message = N_("Thank you! Your comment will appear once a moderator has checked it.")
    else:
        location = links.comment_path(idea_id, comment.id)
        message, category = N_("Your comment is published."), "success"
    submission.settle(session, sent, location=location, message=message, category=category, object_id=comment.id)
    session.commit()
    return _posted(request, comment.id, location, message, category)


def _posted(request: Request, comment_id: int | None, location: str, message: str, category: str) -> Response:
    """The answer to a posted comment: for the page's script (inplace.js), JSON (201) with the
    comment's id, its link and the message in the reader's language, so it can bring the
    page up to date; for a form, a redirect to the comment with the message."""
    if wants_script(request):
        return JSONResponse({"id": comment_id, "link": location, "message": i18n.gettext(message)}, status_code=201)
    return flash(request, redirect(location), message, category)


@router.get("/ideas/{idea_id}/comments/new", name="comment:new")
def new_form(request: Request, session: DbSession, user: CurrentUser, idea_id: int, reply_to: str = "") -> Response:
    idea, _call = idea_queries.visible_idea(session, idea_id, user)
    try:
        require_citizen(user, Action.comment_create, idea)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    parent_id = _parse_id(reply_to)
    parent = session.get(Comment, parent_id) if parent_id else None
    if parent is not None and parent.idea_id != idea.id:
        raise NotFound()
    return _form_page(request, idea=idea, mode="reply" if parent else "new", values={}, errors={}, reply_to=parent)


@router.get("/comments/{comment_id}/edit", name="comment:edit")
def edit_form(request: Request, session: DbSession, user: CurrentUser, comment_id: int) -> Response:
    comment, idea, _call = _comment_and_idea(session, user, comment_id)
    authz.require(user, Action.comment_edit, comment)
    return _form_page(request, idea=idea, mode="edit", values={"body": comment.body_md}, errors={},
                      comment=comment)


@router.post("/comments/{comment_id}/edit", name="comment:update")
def edit(request: Request, session: DbSession, user: CurrentUser, comment_id: int, body: Body = "") -> Response:
    comment, idea, _call = _comment_and_idea(session, user, comment_id)
    try:
        authz.require(user, Action.comment_edit, comment)
        service.edit_comment(session, comment=comment, body=body)
    except ValidationFailed as exc:
        if wants_script(request):
            return refuse(request, exc, idea.id or 0, ANCHOR)
        return _form_page(request, idea=idea, mode="edit", values={"body": body}, errors=exc.errors,
                          comment=comment, status_code=422)
    except AppError as exc:
        if not wants_script(request) and exc.status_code == 403 and user is not None and authz.is_own(user, comment):
            return flash(request, redirect(links.comment_path(comment.idea_id, comment_id)),
                         N_("This comment can no longer be edited: the 15 minutes have passed."), "error")
        return refuse(request, exc, comment.idea_id, f"comment-{comment_id}")
    session.commit()
    return done(request, comment.idea_id, f"comment-{comment_id}", N_("Your comment is updated."))


@router.post("/comments/{comment_id}/delete", name="comment:delete")
def delete(request: Request, session: DbSession, user: CurrentUser, comment_id: int) -> Response:
    comment, _idea, _call = _comment_and_idea(session, user, comment_id)
    try:
        authz.require(user, Action.comment_delete, comment)
    except AppError as exc:
        return refuse(request, exc, comment.idea_id, f"comment-{comment_id}")
    service.delete_comment(session, comment=comment)
    session.commit()
    return done(request, comment.idea_id, f"comment-{comment_id}", N_("The comment is deleted."))


@router.get("/ideas/{idea_id}/comments", name="comment:list")
def back_to_idea(idea_id: int) -> Response:
    """Where a form posted without JavaScript lands if someone reloads: the idea's comments."""
    return redirect(links.idea_path(idea_id, ANCHOR))
