"""Following an idea, or no longer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.account.sessions import current_user
from app.authz import Action, require
from app.db import get_session
from app.errors import AppError
from app.follow import service
from app.i18n import N_
from app.idea import queries as idea_queries
from app.vote.http import done, refuse

router = APIRouter(tags=["follow"], include_in_schema=False)

DbSession = Annotated[Session, Depends(get_session)]
ANCHOR = "follow"


def _toggle(request: Request, session: Session, idea_id: int, *, on: bool) -> Response:
    user = current_user(request)
    try:
        idea, _call = idea_queries.visible_idea(session, idea_id, user)
        require(user, Action.follow_manage, idea)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    assert user is not None and user.id is not None and idea.id is not None
    if on:
        service.follow(session, idea_id=idea.id, user_id=user.id)
    else:
        service.unfollow(session, idea_id=idea.id, user_id=user.id)
    session.commit()
    session.refresh(idea)
    message = N_("You follow this idea: we will tell you what happens to it.") if on \
        else N_("You no longer follow this idea.")
    return done(request, idea_id, ANCHOR, message, {"following": on, "follower_count": idea.follower_count})


@router.post("/ideas/{idea_id}/follow", name="follow:follow")
def follow(request: Request, session: DbSession, idea_id: int) -> Response:
    return _toggle(request, session, idea_id, on=True)


@router.post("/ideas/{idea_id}/unfollow", name="follow:unfollow")
def unfollow(request: Request, session: DbSession, idea_id: int) -> Response:
    return _toggle(request, session, idea_id, on=False)
