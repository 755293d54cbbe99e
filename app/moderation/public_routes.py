"""Public moderation output: the dialogue chart of a call, as an SVG image."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.account.sessions import current_user
from app.call import queries as call_queries
from app.db import get_session
from app.moderation import dialogue

router = APIRouter(tags=["dialogue"], include_in_schema=False)

DbSession = Annotated[Session, Depends(get_session)]


@router.get("/calls/{slug}/dialogue.svg", name="dialogue:call_chart")
def call_chart(request: Request, session: DbSession, slug: str) -> Response:
    call = call_queries.visible_call_by_slug(session, slug, current_user(request))
    assert call.id is not None
    return dialogue.chart_response(dialogue.figures(session, call.id))
