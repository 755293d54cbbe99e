"""Open data: the public figures of a call (app.council.figures, public scope: public ideas, their
supports and their visible comments), per theme and district, under the licence CC BY 4.0."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.call import queries as call_queries
from app.council import figures
from app.deps import DbSession

router = APIRouter(prefix="/api", tags=["open data"])


class FiguresOut(BaseModel):
    ideas: int
    supports: int
    comments: int
    participants: int


class PartOut(FiguresOut):
    id: int | None
    name: str


class CallFiguresOut(FiguresOut):
    licence: str
    licence_url: str
    call: str
    by_theme: list[PartOut]
    by_district: list[PartOut]


def _part(part: figures.Slice) -> PartOut:
    return PartOut(id=int(part.key) if part.key else None, name=part.label, ideas=part.ideas, supports=part.supports,
                   comments=part.comments, participants=part.participants)


@router.get("/calls/{slug}/figures", name="api:call_figures", response_model=CallFiguresOut,
            summary="Public figures of a call, by theme and district (CC BY 4.0)",
            responses={404: {"description": "No such public call"}})
def api_call_figures(session: DbSession, slug: str) -> CallFiguresOut:
    """Public ideas, their supports, their visible comments and the distinct people who took part
    (proposed, supported or commented), for the call and per theme and district (id null: none)."""
    call = call_queries.visible_call_by_slug(session, slug, None)
    report = figures.participation(session, call, scope="public")
    t = report.total
    return CallFiguresOut(
        licence=figures.LICENCE, licence_url=figures.LICENCE_URL, call=call.slug, ideas=t.ideas, supports=t.supports,
        comments=t.comments, participants=t.participants,
        by_theme=[_part(p) for p in report.by["theme"]], by_district=[_part(p) for p in report.by["district"]])
