"""Answers for the small actions done from an idea page (vote, comment, follow, report): a
form gets a redirect back to the idea with a message; the page's script (fetch with
`Accept: application/json` or `X-Requested-With`, see `app.web.wants_script`) gets JSON and
the right status code, and updates the page in place."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app import i18n, links
from app.errors import AppError
from app.handlers import error_answer
from app.web import flash, redirect, wants_script


def refuse(request: Request, exc: AppError, idea_id: int, anchor: str, back: str | None = None) -> Response:
    """Answer an action on idea `idea_id` refused with `exc`, coming back to the idea page at
    `anchor` (e.g. "vote", "comments"; "" for the top), or to `back` when given (a checked local
    path: the call page's card the action was done from). See `app.handlers.error_answer`:
    JSON for scripts; for forms a login that comes back here, a message on that page for
    a conflict (409) or bad input (422), the error page otherwise (403, 404, 429)."""
    return error_answer(request, exc, back=back or links.idea_path(idea_id, anchor))


def done(request: Request, idea_id: int, anchor: str, message: str, data: dict[str, Any] | None = None,
         back: str | None = None) -> Response:
    """Answer a successful action on idea `idea_id`: for scripts, JSON `{"message": text,
    **data}` (200); for forms, a redirect (303) to the idea page at `anchor`, or to `back` when
    given (a checked local path), with `message` (an English msgid) flashed."""
    if wants_script(request):
        return JSONResponse({"message": i18n.gettext(message), **(data or {})})
    return flash(request, redirect(back or links.idea_path(idea_id, anchor)), message, "success")
