"""Turns errors into answers: a page in the layout for people, JSON under /api/ and for the
scripts of in-page actions. `error_answer` is the one place that decides, for the exception
handlers below and for routes that answer a refused action themselves
(`app.web_answers.refuse`).

Never a stack trace: unexpected errors are logged with their traceback and answered with a
plain 500 page.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import contention, i18n, links
from app.errors import AppError, Busy, LoginRequired, ValidationFailed
from app.i18n import N_
from app.observability import access
from app.security import security_headers
from app.web import flash, redirect, render, wants_json, wants_script

log = logging.getLogger("app.errors")

TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    410: N_("Link expired"),
    413: N_("Too large"),
    422: N_("Invalid form"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Service unavailable"),
}

DEFAULT_MESSAGES = {
    400: N_("This request could not be processed."),
    403: N_("You are not allowed to do this."),
    404: N_("The page you are looking for does not exist or is not public."),
    405: N_("This action is not available here."),
    413: N_("What you sent is too large."),
    422: N_("Some fields of the form are invalid. Please go back and check them."),
    429: N_("Too many attempts. Please wait a moment and try again."),
    500: N_("An unexpected error happened on our side. It has been logged; please try again later."),
}


class RequestTooLarge(StarletteHTTPException):
    """A request body that passed MAX_BODY_BYTES while being read (app.body_limit); its detail
    is the message, already in the visitor's language."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


def error_response(request: Request, status: int, message: str | None = None,
                   headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> Response:
    """The error page for `status` (JSON `{"error", "status"}` under /api/). `message` is an
    English msgid with `{placeholders}` filled from `params`; none: the status' usual text."""
    text = i18n.gettext(message or DEFAULT_MESSAGES.get(status, DEFAULT_MESSAGES[400]), **(params or {}))
    if wants_json(request):
        return JSONResponse({"error": text, "status": status}, status_code=status, headers=headers)
    template = f"errors/{status}.html" if status in (403, 404, 429, 500) else "errors/error.html"
    return render(request, template, {"status": status, "title": i18n.gettext(TITLES.get(status, "Error")),
                                      "message": text}, status_code=status, headers=headers)


def _retry_after(exc: AppError) -> dict[str, str] | None:
    return {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None


def script_answer(exc: AppError) -> JSONResponse:
    """What a page's script (cards.js, inplace.js) gets for `exc`: JSON `{"error", "status"}`,
    the message in the visitor's language, with Retry-After when `exc` has one."""
    return JSONResponse({"error": i18n.gettext(exc.message, **exc.context), "status": exc.status_code},
                        status_code=exc.status_code, headers=_retry_after(exc))


def error_answer(request: Request, exc: AppError, *, back: str | None = None) -> Response:
    """The answer to an AppError, for every route.

    - Under /api/: JSON `{"error", "status"}`; bad input is `{"error", "fields": {name: message}}`.
    - LoginRequired: a redirect (303) to the login page, which comes back to `back` or, without
      it, to this URL.
    - Otherwise the error page of the status (403, 404, 429 with Retry-After...).

    `back` is the page an in-page action belongs to (the idea page at its anchor, for votes,
    comments, follows, reports). With it, that page's scripts (`wants_script`) get JSON
    `{"error", "status"}` with the status, and a conflict with the current state (409) or bad
    input (422) is a message flashed on `back` instead of an error page. Without it, scripts
    get what a form gets: they fall back to posting the form.
    """
    headers = _retry_after(exc)
    if back is not None and wants_script(request):
        return script_answer(exc)
    if isinstance(exc, LoginRequired) and not wants_json(request):
        target = back or request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(links.path("account:login", _query={"next": target}))
    if isinstance(exc, ValidationFailed) and wants_json(request):
        errors = {k: i18n.gettext(v) for k, v in exc.errors.items()}
        return JSONResponse({"error": i18n.gettext(exc.message), "fields": errors}, status_code=422)
    if back is not None and exc.status_code in (409, 422):
        return flash(request, redirect(back), exc.message, "error", **exc.context)
    return error_response(request, exc.status_code, exc.message, headers, exc.context)


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:  # ours, not the visitor's (a storage out of reach): logged
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method,
                    access.loggable_path(request.scope), exc)
    return error_answer(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = None if exc.status_code in DEFAULT_MESSAGES else str(exc.detail)
    if isinstance(exc, RequestTooLarge):
        message = str(exc.detail)
    return error_response(request, exc.status_code, message, dict(exc.headers or {}))


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse({"error": i18n.gettext(DEFAULT_MESSAGES[422]), "fields": fields}, status_code=422)
    return error_response(request, 422)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """The 500 page of an exception no route handled, its traceback logged. Starlette runs this
    in its outermost layer, inside the edge (app.edge), which binds the request id around it
    (the traceback's line carries it) and names it in the answer, as in every other (what a
    person reporting the error quotes). Outside the security headers' middleware: the page
    carries them all the same (app.security.security_headers)."""
    # The path as the access log writes it: a token in it (an unsubscribe link) masked.
    log.exception("unhandled error on %s %s", request.method, access.loggable_path(request.scope), exc_info=exc)
    response = error_response(request, 500)
    # Made outside every middleware, the security headers' included: the page adds them itself.
    settings = request.app.state.settings
    for name, value in security_headers(settings, https=settings.is_https):
        response.headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return response


async def database_error(request: Request, exc: Exception) -> Response:
    """A transaction that lost a race (app.contention: a deadlock, a lock not obtained in time),
    rolled back whole: `Busy`, a 503 with Retry-After in the visitor's language (JSON
    `{"error", "status"}` for a page's script, `wants_script`), logged as a warning. Any
    other database error is unexpected (`unexpected_error`)."""
    if not contention.lost_a_race(exc):
        return await unexpected_error(request, exc)
    log.warning("transaction lost a race on %s %s: %s", request.method,
                access.loggable_path(request.scope), type(getattr(exc, "orig", exc)).__name__)
    busy = Busy()
    if wants_script(request):
        # A page's script (cards.js, inplace.js) says the message where the action was: had it
        # received the error page, which is no JSON, it would post the same form again at once,
        # a second attempt in the middle of the contention that failed the first.
        return script_answer(busy)
    return error_answer(request, busy)


def install(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
