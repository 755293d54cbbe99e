"""Following an idea, or no longer."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.account.models import User
from app.authz import Action, require_user
from app.deps import CurrentUser, DbSession
from app.errors import AppError
from app.follow import service
from app.i18n import N_
from app.idea import queries as idea_queries
from app.web import answers_without_page
from app.web_answers import done, refuse

router = APIRouter(tags=["follow"], include_in_schema=False)

ANCHOR = "follow"


def _toggle(request: Request, session: Session, user: User | None, idea_id: int, *, on: bool) -> Response:
    try:
        idea, _call = idea_queries.visible_idea(session, idea_id, user)
        follower = require_user(user, Action.follow_manage, idea)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    assert follower.id is not None and idea.id is not None
    if on:
        service.follow(session, idea_id=idea.id, user_id=follower.id)
    else:
        service.unfollow(session, idea_id=idea.id, user_id=follower.id)
    session.commit()
    session.refresh(idea)
    message = N_("You follow this idea: we will tell you what happens to it.") if on \
        else N_("You no longer follow this idea.")
    return done(request, idea_id, ANCHOR, message, {"following": on, "follower_count": idea.follower_count})


@router.post("/ideas/{idea_id}/follow", name="follow:follow")
@answers_without_page
def follow(request: Request, session: DbSession, user: CurrentUser, idea_id: int) -> Response:
    return _toggle(request, session, user, idea_id, on=True)


@router.post("/ideas/{idea_id}/unfollow", name="follow:unfollow")
@answers_without_page
def unfollow(request: Request, session: DbSession, user: CurrentUser, idea_id: int) -> Response:
    return _toggle(request, session, user, idea_id, on=False)
