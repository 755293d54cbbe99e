"""The request id: one per request, taken from a trusted proxy's `X-Request-ID` when it looks
like one, else made here; kept in a context variable so that every log record of the request,
and every outbox message it queues, carries it (the worker binds it again while it carries the
message out)."""

import random
import re
from contextvars import ContextVar, Token

# What a proxy may send (nginx's $request_id, a UUID, Heroku's): letters, digits, `-`, `_`, `.`,
# 8 to 64 of them. Anything else (a newline, a log-injection attempt, a kilobyte) is replaced.
_VALID = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept_or_new(sent: str | None) -> str:
    """The request id to use for a request whose `X-Request-ID` header was `sent` (None when
    absent): `sent` itself when it is 8 to 64 letters, digits, `-`, `_` or `.`, else a new one:
    128 random bits in 32 hex digits. From Python's `random`, which the system seeds (again in
    a forked child, so that two processes never draw the same): a request id is no secret
    (every answer says its own) but must be unique and tell nothing, not even how many
    requests a process answered (a count would), and `secrets` cost every request a system
    call (2-3 us, a tenth of a kept page's answer)."""
    if sent is not None and _VALID.fullmatch(sent):
        return sent
    return f"{random.getrandbits(128):032x}"  # noqa: S311 - unique, not secret (above)


def current() -> str | None:
    """The request id of the request (or outbox message) being handled, None outside one."""
    return _current.get()


class bound:  # noqa: N801 - used as a function: `with bound(request_id):`
    """Within the block, `current()` is `request_id` (None unbinds it); the one way to bind an
    id (the edge around FastAPI's stack, an access line written through a record, the worker).
    A class rather than a generator under `contextlib.contextmanager`, whose generator cost
    each request 2 us."""

    __slots__ = ("request_id", "token")
    token: Token[str | None]

    def __init__(self, request_id: str | None) -> None:
        self.request_id = request_id

    def __enter__(self) -> None:
        self.token = _current.set(self.request_id)

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self.token)
