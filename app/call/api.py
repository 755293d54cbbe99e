"""Open data: a read-only JSON API of public calls and their public ideas (documented in the
OpenAPI schema at /api/openapi.json, presented at /api/docs). It serves anonymous data only, whoever asks."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlmodel import Session

from app import links
from app.call import queries as call_queries
from app.call import service
from app.call.models import Call, VotingMode
from app.call.phases import current_phase, results_public
from app.deps import DbSession
from app.errors import NotFound
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.web import render

router = APIRouter(prefix="/api", tags=["open data"])



class CategoryOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str


class DistrictOut(BaseModel):
    id: int
    slug: str
    name: str


class PhaseDates(BaseModel):
    submissions_start: datetime | None
    technical_review_start: datetime | None  # participatory budgets only (app.call.phases)
    voting_start: datetime | None
    review_start: datetime | None
    results_start: datetime | None
    closes_at: datetime | None


class CallOut(BaseModel):
    slug: str
    title: str
    summary: str
    phase: str
    dates: PhaseDates
    url: str
    ideas_url: str


class CallDetailOut(CallOut):
    description_html: str
    ideas_per_citizen: int
    votes_per_citizen: int
    vote_scope: str
    premoderation: bool
    categories: list[CategoryOut]
    districts: list[DistrictOut]


class IdeaOut(BaseModel):
    id: int
    call: str
    title: str
    excerpt: str
    status: str
    category: CategoryOut | None
    district: DistrictOut | None
    answer_status: str | None
    winner: bool
    shortlisted: bool
    vote_count: int
    comment_count: int
    published_at: datetime | None
    url: str
    photos: list[str]


class IdeaDetailOut(IdeaOut):
    body_html: str
    answer_html: str


class IdeaListOut(BaseModel):
    items: list[IdeaOut]
    total: int
    page: int
    pages: int
    per_page: int


def _url(request: Request, path: str) -> str:
    return str(request.app.state.settings.absolute_url(path))


def _call_out(request: Request, call: Call) -> dict[str, object]:
    is_budget = call.voting_mode == VotingMode.budget
    return {
        "slug": call.slug, "title": call.title, "summary": call.summary, "phase": str(current_phase(call)),
        "dates": PhaseDates(submissions_start=call.submissions_start,
                            technical_review_start=call.technical_review_start if is_budget else None,
                            voting_start=call.voting_start,
                            review_start=call.review_start, results_start=call.results_start,
                            closes_at=call.closes_at),
        "url": _url(request, links.call_path(call.slug)),
        "ideas_url": _url(request, links.path("api:call_ideas", slug=call.slug)),
    }


def _idea_out(request: Request, card: idea_queries.Card, call: Call, photos: list[str]) -> dict[str, object]:
    idea = card.idea
    selection_public = results_public(call)
    assert idea.id is not None
    return {
        "id": idea.id, "call": call.slug, "title": idea.title, "excerpt": card.excerpt, "status": idea.status,
        "category": CategoryOut.model_validate(card.category, from_attributes=True) if card.category else None,
        "district": DistrictOut.model_validate(card.district, from_attributes=True) if card.district else None,
        # The selection is the moderators' own until the results are published.
        "answer_status": idea.answer_status, "winner": idea.winner and selection_public,
        "shortlisted": idea.shortlisted and selection_public,
        "vote_count": idea.vote_count, "comment_count": idea.comment_count, "published_at": idea.published_at,
        "url": _url(request, links.idea_path(idea.id)), "photos": photos,
    }


@router.get("/docs", include_in_schema=False, name="api:docs")
def api_docs(request: Request) -> HTMLResponse:
    """What the API offers, as a page of the site: FastAPI's Swagger UI loads its script from
    a CDN and runs inline code, which the Content-Security-Policy (rightly) blocks."""
    return render(request, "call/api_docs.html")


@router.get("/calls", name="api:calls", response_model=list[CallOut], summary="Public calls for projects")
def api_calls(request: Request, session: DbSession) -> list[dict[str, object]]:
    return [_call_out(request, c) for c in call_queries.visible_calls(session, None)]


@router.get("/calls/{slug}", name="api:call", response_model=CallDetailOut,
            summary="One call with its themes and districts", responses={404: {"description": "No such public call"}})
def api_call(request: Request, session: DbSession, slug: str) -> dict[str, object]:
    call = call_queries.visible_call_by_slug(session, slug, None)
    assert call.id is not None
    data = _call_out(request, call)
    data.update(
        description_html=call.description_html, ideas_per_citizen=call.ideas_per_citizen,
        votes_per_citizen=call.votes_per_citizen, vote_scope=call.vote_scope, premoderation=call.premoderation,
        categories=[CategoryOut.model_validate(c, from_attributes=True)
                    for c in service.categories_of(session, call.id)],
        districts=[DistrictOut.model_validate(d, from_attributes=True) for d in service.all_districts(session)],
    )
    return data


@router.get("/calls/{slug}/ideas", name="api:call_ideas", response_model=IdeaListOut, summary="Public ideas of a call",
            responses={404: {"description": "No such public call"}})
def api_call_ideas(
    request: Request, session: DbSession, slug: str,
    category: Annotated[int | None, Query(description="Category (theme) id")] = None,
    district: Annotated[int | None, Query(description="District id")] = None,
    status: Annotated[str, Query(description="unanswered, an answer status, shortlisted or winner")] = "",
    sort: Annotated[str, Query(description="newest, supported, discussed or random")] = "newest",
    seed: Annotated[int, Query(ge=0, le=999_999_999, description="Seed of the random order")] = 0,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 24,
) -> dict[str, object]:
    call = call_queries.visible_call_by_slug(session, slug, None)
    filters = idea_queries.clean_filters(str(category or ""), str(district or ""), status, sort, str(page), seed)
    listing = idea_queries.idea_page(session, call, filters, per_page=per_page)
    photos = _photo_urls(request, session, [c.idea for c in listing.cards])
    return {
        "items": [_idea_out(request, card, call, photos.get(card.idea.id or 0, [])) for card in listing.cards],
        "total": listing.total, "page": listing.page, "pages": listing.pages, "per_page": listing.per_page,
    }


def _photo_urls(request: Request, session: Session, ideas: list[Idea]) -> dict[int, list[str]]:
    return {idea_id: [_url(request, links.photo_path(idea_id, pid, "display")) for pid in ids]
            for idea_id, ids in idea_queries.photo_ids(session, [i.id for i in ideas if i.id]).items()}


@router.get("/ideas/{idea_id}", name="api:idea", response_model=IdeaDetailOut, summary="One public idea",
            responses={404: {"description": "No such public idea"}})
def api_idea(request: Request, session: DbSession, idea_id: int) -> dict[str, object]:
    idea, call = idea_queries.visible_idea(session, idea_id, None)
    if not idea.is_public:
        raise NotFound()
    card = idea_queries.cards_for(session, [idea])[0]
    data = _idea_out(request, card, call, _photo_urls(request, session, [idea]).get(idea_id, []))
    data.update(body_html=idea.body_html, answer_html=idea.answer_html)
    return data
