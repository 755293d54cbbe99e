"""Server-side sessions: created at login, looked up per request, revocable at any time."""

import secrets
from datetime import timedelta

from fastapi import Depends, Request
from sqlalchemy import delete
from sqlmodel import Session, select

from app import cookies
from app.account.models import User, UserSession
from app.clock import utcnow
from app.db import get_session
from app.security import hash_token

SESSION_COOKIE = cookies.SESSION.base  # its name over http; see app.cookies for https


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


def user_for_token(session: Session, token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)  # type: ignore[arg-type]
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    user, user_session = row
    if user_session.expires_at < utcnow() or user.banned_at is not None or user.deleted_at is not None:
        return None
    return user


def load_current_user(request: Request, session: Session = Depends(get_session)) -> User | None:
    """Application-wide dependency: the logged-in user, also kept on request.state for pages."""
    user = user_for_token(session, cookies.SESSION.read(request))
    request.state.user = user
    return user


def current_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)
