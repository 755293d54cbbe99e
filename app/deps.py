"""What a route declares to receive the request's database session, the settings and the
person asking. Declared once here; a route reads

    @router.post("/moderation/ideas/{idea_id}/hide", name="moderation:hide")
    def hide(request: Request, session: DbSession, user: ModeratorUser, idea_id: int) -> Response:

With CitizenUser, ModeratorUser, AdminUser or `allowed(...)`, whoever may not enter is refused
before the route runs (LoginRequired: the login page, which comes back here; Forbidden: 403),
and the route receives a `User`, never None. Routes that must load
something first (an idea, to know whether it may be voted on) take `CurrentUser` and call
`authz.require...` themselves. What a user may do is decided only in `app.authz`.
"""

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from app import authz
from app.account.models import User
from app.account.sessions import load_current_user
from app.authz import Action
from app.db import REQUEST_SESSION
from app.settings import Settings

DbSession = Annotated[Session, REQUEST_SESSION]
"""The request's session: a write session for unsafe methods and for GET routes marked
`app.db.writes_on_read` (app.db.get_session). Routes commit once; nothing is committed on an
error."""


async def _app_settings(request: Request) -> Settings:
    # Async: FastAPI runs a plain function dependency in the thread pool, a trip there and back
    # for every request that asks for the settings (issue 14: 6 such trips a logged-in list).
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(_app_settings)]
"""The application's settings (app.settings.Settings), as created with the app."""

CurrentUser = Annotated[User | None, Depends(load_current_user)]
"""The logged-in person, or None for an anonymous visitor (or a banned, deleted or expired
session). Loaded once per request by the application-wide dependency, cached here."""


def allowed(action: Action) -> Any:
    """A dependency (use as `Annotated[User, allowed(Action.x)]`) giving the logged-in user
    allowed to do `action`, which takes no object. Raises LoginRequired for anonymous
    visitors and Forbidden for the others, before the route runs (app.authz.require_user)."""

    # Async: authz decides from the loaded user alone, and FastAPI would run a plain function in
    # the thread pool, a trip there and back for every page of a signed-in person.
    async def dependency(user: CurrentUser) -> User:
        return authz.require_user(user, action)

    dependency.__name__ = f"allowed_{action.name}"
    return Depends(dependency)


CitizenUser = Annotated[User, allowed(Action.account_manage)]
"""A logged-in, active person (any role): their own account, ideas, notifications."""

ModeratorUser = Annotated[User, allowed(Action.moderation_access)]
"""A moderator or an administrator: the moderation pages. Decisions on one idea or comment
still call `authz.require(user, Action.moderation_decide, ...)` once it is loaded."""

AdminUser = Annotated[User, allowed(Action.admin_access)]
"""An administrator: the administration pages."""
