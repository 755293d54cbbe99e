"""Server-side sessions: created at login, looked up per request, revocable at any time."""

import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import bindparam, delete, event, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app import cookies
from app.account.models import User, UserSession
from app.clock import utcnow
from app.db import REQUEST_SESSION, is_write_request
from app.security import hash_token

SESSION_COOKIE = cookies.SESSION.base  # its name over http; see app.cookies for https
# How often a session's last activity is written: "last seen" is approximate by design, and a
# write on every request would make every page a writer.
LAST_SEEN_STEP = timedelta(minutes=5)


def start_session(session: Session, user: User, *, days: int, user_agent: str = "") -> str:
    """Create a session and return the cookie value (shown once, stored only hashed)."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=hash_token(token), user_id=user.id,
                            expires_at=utcnow() + timedelta(days=days), user_agent=user_agent[:200]))
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))  # type: ignore[arg-type]


def end_all_sessions(session: Session, user_id: int) -> int:
    """Log the person out everywhere; returns how many sessions were ended."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))  # type: ignore[arg-type]
    return int(result.rowcount)  # type: ignore[attr-defined]


def touch(session: Session, row: UserSession) -> None:
    """Note that the session was used now, at most every LAST_SEEN_STEP (in the caller's
    transaction: a request that writes anyway). `row` shows the new time at once; the database
    is told by one UPDATE when the transaction commits (`_write_touches`), which changes nothing
    if the sign-in ended meanwhile (a logout from another tab, the account deleted): a support
    reads its visitor before its write turn (app.db.Database.write), and the row changed as an
    ORM object failed its flush in the turn with StaleDataError, a 500."""
    now = utcnow()
    if now - row.last_seen_at >= LAST_SEEN_STEP:
        set_committed_value(row, "last_seen_at", now)
        session.info[_TOUCHED] = (row.id, now)


_TOUCHED = "session_touched"  # in a session's info: (user_session id, time) to write at commit
_TOUCH = (update(UserSession).where(col(UserSession.id) == bindparam("touched"))
          .values(last_seen_at=bindparam("now")))


@event.listens_for(Session, "before_commit")
def _write_touches(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the transaction goes on
        return
    touched = session.info.pop(_TOUCHED, None)
    if touched is not None:
        session.execute(_TOUCH, {"touched": touched[0], "now": touched[1]})


def user_for_token(session: Session, token: str) -> User | None:
    """The active account whose session cookie value is `token`; None if the session is
    unknown, expired, or its account suspended or deleted."""
    found = _session_for_token(session, token)
    return found[0] if found is not None else None


# Built once: every request of a signed-in person runs it, and building it cost a fifth of its
# time (py-spy, a support POST).
_SESSION_LOOKUP = (select(User, UserSession)
                   .join(UserSession, UserSession.user_id == User.id)  # type: ignore[arg-type]
                   .where(UserSession.token_hash == bindparam("token_hash")))


def _session_for_token(session: Session, token: str) -> tuple[User, UserSession] | None:
    if not token or len(token) > 100:
        return None
    row = session.exec(_SESSION_LOOKUP, params={"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    user, user_session = row
    if user_session.expires_at < utcnow() or user.banned_at is not None or user.deleted_at is not None:
        return None
    return user, user_session


RequestReader = Callable[[Request, Session, User | None], None]
"""What a request reads with its visitor, in the same trip to the thread pool: called with the
request, its session and the user just loaded (None for an anonymous visitor); keeps what it
reads on request.state. Registered by app.main as `app.state.request_readers`."""


_VISITOR_IN_ROUTE = "reads_visitor_in_its_trip"  # an endpoint's attribute, set by `visitor_read_by_route`
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def visitor_read_by_route(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route (under its `@router.get`) that reads its visitor itself, with
    `load_visitor` at the start of its own one trip to the thread pool, together with everything
    else it reads: `load_current_user` then makes no trip of its own for it (issue 14: a
    logged-in list page took 2 trips on SQLite and 3 on PostgreSQL; 1 each so). Such a route
    must take no `CurrentUser` and no role check (`app.deps.allowed`): before the route, the
    visitor is not known (None). Unsafe methods (a write) are not concerned: their visitor is
    always read before the route, as the CSRF check and the write turn need."""
    setattr(endpoint, _VISITOR_IN_ROUTE, True)
    return endpoint


async def load_current_user(request: Request, session: Session = REQUEST_SESSION) -> User | None:
    """Application-wide dependency: the logged-in user, also kept on request.state for pages.
    A request that writes anyway also notes the session's last activity (approximate: at most
    every few minutes, `touch`), shown on the person's sessions page.

    Then, in the same trip to the thread pool, each of `app.state.request_readers` in turn (set
    by app.main: the header's unread count, the city's identity). One trip rather than one per
    reading: each costs a wake-up of a worker thread and then of the event loop, about 0.3 ms
    of CPU, which was a tenth of a logged-in list page (issue 14). None, and no trip, for a
    route that reads its visitor in its own trip (`visitor_read_by_route`)."""
    if getattr(request.scope.get("endpoint"), _VISITOR_IN_ROUTE, False) and not is_write_request(request):
        return None
    readers: Sequence[RequestReader] = getattr(request.app.state, "request_readers", ())
    return await run_in_threadpool(_load_current_user, request, session, readers)


def load_visitor(request: Request, session: Session) -> User | None:
    """What `load_current_user` reads, for a route marked `visitor_read_by_route`, in its own
    thread-pool trip (a blocking call: never on the event loop): the logged-in user (None for an
    anonymous visitor), kept on request.state, then what `app.state.request_readers` read."""
    readers: Sequence[RequestReader] = getattr(request.app.state, "request_readers", ())
    return _load_current_user(request, session, readers)


def _load_current_user(request: Request, session: Session, readers: Sequence[RequestReader]) -> User | None:
    found = _session_for_token(session, cookies.SESSION.read(request))
    user = found[0] if found is not None else None
    if found is not None and is_write_request(request):
        touch(session, found[1])
    request.state.user = user
    for reader in readers:
        reader(request, session, user)
    return user


def current_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)
