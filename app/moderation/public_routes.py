"""Public moderation output: the dialogue chart of a call, as an SVG image."""

from fastapi import APIRouter
from fastapi.responses import Response

from app.call import queries as call_queries
from app.deps import CurrentUser, DbSession
from app.moderation import dialogue

router = APIRouter(tags=["dialogue"], include_in_schema=False)


@router.get("/calls/{slug}/dialogue.svg", name="dialogue:call_chart")
def call_chart(session: DbSession, user: CurrentUser, slug: str) -> Response:
    call = call_queries.visible_call_by_slug(session, slug, user)
    assert call.id is not None
    return dialogue.chart_response(dialogue.figures(session, call.id))
