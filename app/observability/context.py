"""The request id: one per request, taken from a trusted proxy's `X-Request-ID` when it looks
like one, else made here; kept in a context variable so that every log record of the request,
and every outbox message it queues, carries it (the worker binds it again while it carries the
message out)."""

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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


def bind(request_id: str | None) -> Token[str | None]:
    """Make `request_id` the current one until `unbind(token)` with the token returned (the
    request middleware's, where `bound` costs a generator per request)."""
    return _current.set(request_id)


def unbind(token: Token[str | None]) -> None:
    """Give back the request id that was current before `bind` returned `token`."""
    _current.reset(token)


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Within the block, `current()` is `request_id` (None unbinds it)."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
