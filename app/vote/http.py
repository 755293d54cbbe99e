"""What the vote, comment, report and follow routes share: answering a form with a redirect
back to the idea, and a script (fetch with Accept: application/json or X-Requested-With)
with JSON and the right status code."""

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app import i18n
from app.account.models import User
from app.authz import Action, is_active, require
from app.errors import AppError, Forbidden, LoginRequired, NotFound
from app.i18n import N_
from app.notify.links import idea_path
from app.web import flash, redirect

CONFIRM_EMAIL_FIRST = N_("Please confirm your e-mail address first, with the link we sent you.")


def wants_script(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or "x-requested-with" in request.headers


def require_citizen(user: User | None, action: Action, obj: Any) -> None:
    """Like authz.require, with a clearer refusal for people who have not confirmed their e-mail."""
    if is_active(user) and user is not None and user.email_verified_at is None:
        raise Forbidden(CONFIRM_EMAIL_FIRST)
    require(user, action, obj)


def message_of(exc: AppError) -> str:
    return i18n.gettext(exc.message, **exc.context)


def refuse(request: Request, exc: AppError, idea_id: int, anchor: str) -> Response:
    """Answer a refused action: JSON for scripts; for forms, a login, an error page (403,
    404) or, for a conflict with the current state, a message on the idea page."""
    if wants_script(request):
        return JSONResponse({"error": message_of(exc), "status": exc.status_code}, status_code=exc.status_code)
    if isinstance(exc, LoginRequired):
        return redirect(f"/account/login?next={quote(idea_path(idea_id, anchor))}")
    if isinstance(exc, Forbidden | NotFound) or exc.status_code not in (409, 422):
        raise exc
    return flash(request, redirect(idea_path(idea_id, anchor)), exc.message, "error", **exc.context)


def done(request: Request, idea_id: int, anchor: str, message: str, data: dict[str, Any] | None = None) -> Response:
    if wants_script(request):
        return JSONResponse({"message": i18n.gettext(message), **(data or {})})
    return flash(request, redirect(idea_path(idea_id, anchor)), message, "success")
