"""Turns errors into answers: a page in the layout for people, JSON under /api/.

Never a stack trace: unexpected errors are logged with their traceback and answered with a
plain 500 page.
"""

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import i18n
from app.errors import AppError, LoginRequired, RateLimited, ValidationFailed
from app.i18n import N_
from app.web import redirect, render

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


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    text = i18n.gettext(message or DEFAULT_MESSAGES.get(status, DEFAULT_MESSAGES[400]))
    if wants_json(request):
        return JSONResponse({"error": text, "status": status}, status_code=status, headers=headers)
    template = f"errors/{status}.html" if status in (403, 404, 429, 500) else "errors/error.html"
    return render(request, template, {"status": status, "title": i18n.gettext(TITLES.get(status, "Error")),
                                      "message": text}, status_code=status, headers=headers)


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, LoginRequired) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/account/login?next={quote(target)}")
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if isinstance(exc, ValidationFailed) and wants_json(request):
        errors = {k: i18n.gettext(v) for k, v in exc.errors.items()}
        return JSONResponse({"error": i18n.gettext(exc.message), "fields": errors}, status_code=422)
    return error_response(request, exc.status_code, exc.message, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = None if exc.status_code in DEFAULT_MESSAGES else str(exc.detail)
    return error_response(request, exc.status_code, message, dict(exc.headers or {}))


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse({"error": i18n.gettext(DEFAULT_MESSAGES[422]), "fields": fields}, status_code=422)
    return error_response(request, 422)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
