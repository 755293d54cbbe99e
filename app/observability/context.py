"""The request id: one per request, taken from a trusted proxy's `X-Request-ID` when it looks
like one, else made here; kept in a context variable so that every log record of the request,
and every outbox message it queues, carries it (the worker binds it again while it carries the
message out)."""

import re
import secrets
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
# What a proxy may send (nginx's $request_id, a UUID, Heroku's): letters, digits, `-`, `_`, `.`,
# 8 to 64 of them. Anything else (a newline, a log-injection attempt, a kilobyte) is replaced.
_VALID = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept_or_new(sent: str | None) -> str:
    """The request id to use for a request whose `X-Request-ID` header was `sent` (None when
    absent): `sent` itself when it is 8 to 64 letters, digits, `-`, `_` or `.`, else a new
    random one (32 hex digits: 128 random bits, as a UUID's hex without its version digits,
    made without the UUID object every request paid for)."""
    if sent is not None and _VALID.fullmatch(sent):
        return sent
    return secrets.token_hex(16)


def current() -> str | None:
    """The request id of the request (or outbox message) being handled, None outside one."""
    return _current.get()


class bound:  # noqa: N801 - used as a function: `with bound(request_id):`
    """Within the block, `current()` is `request_id` (None unbinds it); the one way to bind an
    id (the request middleware, the 500 page, the worker). A class rather than a generator
    under `contextlib.contextmanager`, whose generator cost each request 2 us."""

    __slots__ = ("request_id", "token")
    token: Token[str | None]

    def __init__(self, request_id: str | None) -> None:
        self.request_id = request_id

    def __enter__(self) -> None:
        self.token = _current.set(self.request_id)

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self.token)
