"""Public call pages: the home page lists, a call with its ideas, its cover, its CSV export."""

import csv
import io
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from app import cookies, links
from app.account import sessions
from app.account.models import User
from app.announce import queries as announce_queries
from app.authz import Action, can
from app.call import cards, service, shell
from app.call import queries as call_queries
from app.call.models import Call, Phase, VoteScope
from app.call.phases import accepts_ideas, accepts_votes, current_phase, is_public
from app.call.rules import phase_end, time_left
from app.db import get_or_not_found
from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import NotFound
from app.i18n import current_language
from app.idea import queries as idea_queries
from app.intake import service as intake_service
from app.maps import queries as maps_queries
from app.media import service as media_service
from app.media.models import MediaFile
from app.moderation import dialogue as moderation_dialogue
from app.pagecache import memo
from app.residents import service as residents
from app.residents.models import Part
from app.settings import Settings
from app.share import previews as share_previews
from app.share import video as share_video
from app.vote.allowance import Allowance
from app.web import render

router = APIRouter(tags=["calls"], include_in_schema=False)

CALL_ANNOUNCEMENTS = 5  # the newest; the rest are on the announcements page
SEED_COOKIE = cookies.SHUFFLE_SEED.base  # its name over http; see app.cookies for https
CSV_COLUMNS = ("id", "title", "category", "district", "status", "answer_status", "votes", "comments",
               "published_at", "url", "excerpt")


def _seed(request: Request, given: str) -> tuple[int, bool]:
    """The shuffle seed of a random order, and whether it is new (then kept in a cookie).

    The page's own seed comes first: its links and filter form carry it (`seed=`), so a
    visitor whose browser keeps no cookie pages through one order, each idea once. Then the
    visitor's cookie, so coming back shows the same order; then a new one."""
    for raw in (given, cookies.SHUFFLE_SEED.read(request)):
        seed = idea_queries.parse_seed(raw)
        if seed is not None:
            return seed, False
    return secrets.randbelow(idea_queries.SEED_LIMIT), True


@router.get("/calls", name="call:list")
def call_list(request: Request, session: DbSession, user: CurrentUser) -> HTMLResponse:
    calls = call_queries.visible_calls(session, user)
    public = calls if user is None else call_queries.visible_calls(session, None)
    public_ids = [c.id for c in public if c.id is not None]
    return render(request, "call/list.html", {"calls": calls, "phase_of": current_phase,
                                              "phase_labels": call_queries.PHASE_LABELS,
                                              "has_map": maps_queries.any_located(session, public_ids)})


@router.get("/calls/{slug}", name="call:detail")
@sessions.visitor_read_by_route
async def call_detail(request: Request, session: DbSession, slug: str) -> HTMLResponse:
    """A call's page with its list of ideas, in one trip to the thread pool with its visitor
    (app.account.sessions.visitor_read_by_route): a logged-in citizen's list, which the page
    cache never keeps, took 2 trips on SQLite and 3 on PostgreSQL, each about 0.3 ms of CPU
    (issue 14). The filters are read from the address as they come (`category`, `district`,
    `status`, `sort`, `page`, `seed`: text, cleaned by app.idea.queries.clean_filters)."""
    return await run_in_threadpool(_call_detail_trip, request, session, slug)


def _call_detail_trip(request: Request, session: Session, slug: str) -> HTMLResponse:
    user = sessions.load_visitor(request, session)
    response = _call_detail(request, session, request.app.state.settings, user, slug, request.query_params)
    # Ended here, in this trip: on PostgreSQL ending a read talks to the server, which
    # app.db.get_session would otherwise do in a trip of its own. The page is rendered.
    session.close()
    return response


def _call_detail(request: Request, session: Session, settings: Settings, user: User | None, slug: str,
                 query: QueryParams) -> HTMLResponse:
    category, district, status = query.get("category", ""), query.get("district", ""), query.get("status", "")
    sort, page, seed = query.get("sort", "newest"), query.get("page", "1"), query.get("seed", "")
    cards.read_before(session)  # what is kept of this page is never older than its generation
    call = call_queries.kept_call_by_slug(session, slug, user)
    assert call.id is not None
    shuffle, new_seed = _seed(request, seed)
    filters = idea_queries.clean_filters(category, district, status, sort, page, shuffle)
    # What every visitor's page shows alike, kept while nothing is written (app.pagecache.memo).
    categories = memo.remembered(session, "themes", (call.id,),
                                 lambda: memo.detached(session, service.categories_of(session, call.id or 0)))
    districts = memo.remembered(session, "districts", (),
                                lambda: memo.detached(session, service.all_districts(session)))
    phase = current_phase(call)

    def figures() -> idea_queries.CallFigures:
        # The unfiltered list's total and the share preview's text: read once a generation for both.
        return memo.remembered(session, "call_figures", (call.id,),
                               lambda: idea_queries.call_figures(session, call.id or 0))

    # The same for every visitor (no viewer in it): kept per process while nothing is written.
    listing = cards.listing(
        session, (call.id, phase, filters.category_id, filters.district_id, filters.status, filters.sort,
                  filters.seed if filters.sort == "random" else 0, filters.page),
        lambda: idea_queries.idea_page(session, call, filters, themes=categories, districts=districts,
                                       figures=figures()))
    results_out = phase in (Phase.results, Phase.closed)
    # What makes the page differ for every visitor alike: the call, its phase, the filters (a
    # random order's seed may come from a cookie), the page number.
    page_key = (call.id, phase, filters.category_id, filters.district_id, filters.status, filters.sort,
                filters.seed if filters.sort == "random" else 0, listing.page)
    # What every pagination link keeps: the filters, and the seed the order depends on.
    query_base = {k: v for k, v in (("category", filters.category_id), ("district", filters.district_id),
                                    ("status", filters.status), ("sort", filters.sort)) if v}
    if filters.sort == "random":
        query_base["seed"] = str(filters.seed)
    # Published by a write (a scheduled one by the worker's): kept under the generation too.
    announcements = memo.remembered(session, "call_announcements", (call.id,), lambda: memo.detached(
        session, announce_queries.published(session, call_id=call.id, limit=CALL_ANNOUNCEMENTS)))
    # The viewer's supports left, those on this page's cards and their own ideas: one statement.
    viewer = call_queries.viewer_part(session, user, call, [card.idea.id for card in listing.cards])
    context = {
        "call": call,
        "phase": phase,
        "winners": idea_queries.selected_ideas(session, call.id) if results_out else [],
        "selection_public": results_out,
        "phase_labels": call_queries.PHASE_LABELS,
        "phase_explained": call_queries.PHASE_EXPLAINED,
        "timeline": call_queries.timeline(call),
        "accepts_ideas": accepts_ideas(call),
        "categories": categories,
        "districts": districts,
        "filters": filters,
        "listing": listing,
        # Each card's part that every visitor sees alike, kept per process (app.call.cards).
        "shared_cards": cards.SharedCards(
            session, voting_mode=call.voting_mode, selection_public=results_out, page=page_key,
            call=(call.id, phase)),
        "query_base": query_base,
        "sorts": idea_queries.SORTS,
        "status_filters": idea_queries.STATUS_FILTERS,
        "status_labels": idea_queries.STATUS_LABELS,
        "own_ideas": viewer.own_ideas,
        "taking_part": residents.call_access(session, settings, call, user),
        "intake_offered": intake_service.offered_to(session, user, call),
        "dialogue": memo.remembered(session, "dialogue", (call.id,),
                                    lambda: moderation_dialogue.figures(session, call.id)),
        "announcements": announcements,
        # Videos linked in the call's description, each in a click-to-load player.
        "videos": share_video.videos_in(call.description_html, settings.peertube_host_list),
        "announcement_texts": {a.id: announce_queries.text_for(a, current_language()) for a in announcements},
        "announcement_languages": {a.id: announce_queries.language_for(a, current_language()) for a in announcements},
        # The same for every visitor of a language: kept with the call's figures it shows.
        "share": memo.remembered(
            session, "call_preview", (call.id, phase, current_language(), settings.base_url),
            lambda: share_previews.call_preview(settings, call, figures())),
        # A link to its map page (app.maps).
        "has_map": memo.remembered(session, "has_map", (call.id,), lambda: maps_queries.has_map(session, call)),
        **_rules_and_supports(request, session, call, user, viewer.allowance),
    }
    states = context["card_states"] = _card_states(call, listing.cards, user, context, viewer.voted)
    shape = None
    if user is not None:
        # The supports left as the rules block shows them: per theme, or in the call.
        buckets = [c.id for c in categories] if context["per_theme"] else [None]
        left = tuple((bucket, viewer.allowance.left(call, bucket)) for bucket in buckets)
        shape = shell.viewer_shape(can, user, context, states, left)
    # A logged-in citizen's page from the shell kept for their viewer shape (app.call.shell).
    response = shell.render(request, session, context, shape=shape, page=page_key)
    # Only an order that depends on it keeps a seed: the other orders' pages set no cookie but
    # the CSRF seed, so the page cache can keep them for first visitors too (app.pagecache).
    if new_seed and filters.sort == "random":
        cookies.SHUFFLE_SEED.set(response, str(shuffle), https=settings.is_https)
    return response


def _card_states(call: Call, listing_cards: list[Any], user: User | None, context: dict[str, Any],
                 voted_ids: set[int]) -> dict[int, cards.CardState]:
    """What each card of the page shows of the viewer (app.call.cards.CardState), by idea id:
    whether they support it, and whether it has the support form, given that votes are open,
    that they meet the call's access rule and that they may support it (`Action.vote_cast`),
    or already do; with the form, the bucket of the limit and the supports left under it."""
    open_to_viewer = bool(context["votes_open"]) and user is not None and bool(context["resident_rule_met"])
    per_theme = bool(context["per_theme"])
    allowance = context["allowance"]
    states: dict[int, cards.CardState] = {}
    left: dict[int | None, int] = {}  # by theme: the same for every card of a bucket
    for card in listing_cards:
        idea = card.idea
        idea_id, category_id = idea.id, idea.category_id
        voted = idea_id in voted_ids
        if open_to_viewer and (voted or can(user, Action.vote_cast, idea)):
            bucket = ("none" if category_id is None else str(category_id)) if per_theme else "call"
            if category_id not in left:
                left[category_id] = allowance.left(call, category_id)
            states[idea_id] = cards.CardState(voted, True, bucket, per_theme, left[category_id])
        else:
            states[idea_id] = cards.VOTED if voted else cards.NOT_VOTED
    return states


def _rules_and_supports(request: Request, session: Session, call: Call, user: User | None,
                        allowance: Allowance) -> dict[str, object]:
    """The rules block and the cards' support forms: the phase's end and time left, whether
    votes are open, whether the viewer meets the call's access rule for votes, what they have
    left (`allowance`: app.call.queries.viewer_part), and the list's own address for the
    forms' `next`."""
    per_theme = call.vote_scope == VoteScope.category
    return {
        "per_theme": per_theme,
        "phase_end": phase_end(call),
        "time_left": time_left(call),
        "votes_open": accepts_votes(call),
        "resident_rule_met": residents.may_take_part(session, user, call, Part.vote),
        "allowance": allowance,
        "list_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("/calls/{slug}/cover/{variant}", name="call:cover")
def call_cover(session: DbSession, settings: AppSettings, user: CurrentUser, slug: str, variant: str) -> Response:
    call = call_queries.visible_call_by_slug(session, slug, user)
    if variant not in ("display", "card", "thumb") or call.cover_id is None:
        raise NotFound()
    media = get_or_not_found(session, MediaFile, call.cover_id)
    return media_service.file_response(settings, media, variant, public=is_public(call))


def csv_cell(value: object) -> str:
    """A spreadsheet must not run a cell as a formula: prefix risky first characters."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@router.get("/calls/{slug}/ideas.csv", name="call:csv")
def ideas_csv(session: DbSession, settings: AppSettings, slug: str) -> Response:
    # Open data: public ideas only, whoever asks (also for authors and moderators).
    call = call_queries.visible_call_by_slug(session, slug, None)
    assert call.id is not None
    ideas = list(session.exec(idea_queries.public_ideas(call.id)))
    cards = idea_queries.cards_for(session, ideas)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for card in cards:
        idea = card.idea
        assert idea.id is not None
        writer.writerow([csv_cell(v) for v in (
            idea.id, idea.title, card.category.name if card.category else "",
            card.district.name if card.district else "", idea.status, idea.answer_status or "",
            idea.vote_count, idea.comment_count, idea.published_at.isoformat() if idea.published_at else "",
            settings.absolute_url(links.idea_path(idea.id)), card.excerpt)])
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{call.slug}-ideas.csv"',
                 "x-content-type-options": "nosniff",
                 # Open data under CC BY 4.0, as the open-data page says (RFC 8288's "license").
                 "link": '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'},
    )
