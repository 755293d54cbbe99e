"""Requests larger than MAX_BODY_BYTES get the 413 page in the visitor's language and the
site's layout (JSON under /api/), never a bare English "Content Too Large".

FastAPI's own `max_body_size` answered before the application, as text/plain, so this
middleware replaces it. It runs inside the language and security-header middlewares, so the
page is translated and carries the usual headers. A request that announces its size
(Content-Length, as browsers do for forms) is answered before anything reads it; its body is
drained up to a bound first, so that the browser, still sending, shows the page rather than a
reset connection. A request that does not announce it (chunked) is stopped when it passes the
limit, through the application's own error handler.
"""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import cookies, handlers, i18n
from app.account.sessions import user_for_token
from app.handlers import RequestTooLarge
from app.i18n import N_
from app.settings import PHOTOS_PER_IDEA, Settings

TOO_LARGE = N_("What you sent is too large: {total} MB at most, that is {photos} photos of {photo} MB each "
               "and the text. Please go back, choose smaller photos and send again.")
DRAIN_FACTOR = 2  # a body up to twice the limit is read and dropped before the answer


def too_large_message(settings: Settings) -> str:
    """The 413 message in the current language, with the limits said in megabytes."""
    def megabytes(n: int) -> str:
        return i18n.format_number(round(n / (1024 * 1024), 1))

    return i18n.gettext(TOO_LARGE, total=megabytes(settings.max_body_bytes), photos=PHOTOS_PER_IDEA,
                        photo=megabytes(settings.max_upload_bytes))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = _content_length(scope)
        if announced is not None and announced > self.limit:
            await _drain(receive, self.limit * DRAIN_FACTOR)
            await _answer(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RequestTooLarge(too_large_message(scope["app"].state.settings))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive, bound: int) -> None:
    read = 0
    while read <= bound:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    settings: Settings = scope["app"].state.settings
    # The page's header shows who is logged in, as on every page.
    with scope["app"].state.db.session() as session:
        request.state.user = user_for_token(session, cookies.SESSION.read(request))
    response = handlers.error_response(request, 413, too_large_message(settings))
    await response(scope, receive, send)
