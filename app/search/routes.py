"""The search page: words, filters with counts, sort and pages, all in the query string (it
works without JavaScript and its addresses can be shared); and the similar ideas of a call, as
an HTML fragment for the idea form's script (static/js/similar.js)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app import contentlang
from app.call.models import Call, Category, District
from app.call.queries import visible_call_by_slug
from app.deps import AppSettings, CurrentUser, DbSession
from app.i18n import N_
from app.idea.models import ANSWER_LABELS
from app.params import parse_id
from app.search import text
from app.search.backend import SORTS, UNANSWERED, SearchQuery, SearchResults
from app.search.calls import matching_calls
from app.search.engines import backend_for, suggest
from app.web import render

router = APIRouter(include_in_schema=False)

SORT_LABELS = {
    "relevance": N_("Relevance"),
    "supported": N_("Most supported"),
    "newest": N_("Newest"),
}
STATUS_LABELS: dict[str, str] = {UNANSWERED: N_("Awaiting an answer"), **{str(k): v for k, v in ANSWER_LABELS.items()}}
TOO_LONG = N_("Your search is too long: use at most {max} characters.")
NO_WORDS = N_("Type at least one word of two letters or more, other than very common words like “the” or “de”.")


def read_query(q: str, call: str, category: str, district: str, status: str, sort: str,
               page: str) -> SearchQuery:
    """A SearchQuery from query-string values: unknown or malformed filters are dropped, the
    sort falls back to relevance and the page to 1 (bounded to 500)."""
    return SearchQuery(
        text=q,
        call_id=parse_id(call), category_id=parse_id(category), district_id=parse_id(district),
        status=status if status in STATUS_LABELS else None,
        sort=sort if sort in SORTS else "relevance",
        page=max(1, min(parse_id(page) or 1, 500)),
    )


def _facet_options(session: Session, results: SearchResults, query: SearchQuery) -> dict[str, list[dict[str, Any]]]:
    """Per filter, its options with their counts: [{"value", "label", "count", "selected",
    "translate", "lang"}], the most frequent first. Only values found among the results are named (each
    facet is counted without its own filter, so a selected value with results is among them):
    an id typed in the address never shows the name of a call still in preparation."""
    names: dict[str, dict[Any, str]] = {"status": {k: v for k, v in STATUS_LABELS.items()}}
    langs: dict[tuple[str, Any], str] = {}  # an option's `lang` when its name is an untranslated original
    models: tuple[tuple[str, type[Call] | type[Category] | type[District], str], ...] = (
        ("call", Call, "title"), ("category", Category, "name"), ("district", District, "name"))
    for facet, model, field in models:
        ids = [i for i in results.facets.get(facet, {}) if i is not None]
        rows: list[Any] = list(session.exec(select(model).where(col(model.id).in_(ids)))) if ids else []  # type: ignore[attr-defined]
        names[facet] = {}
        for row in rows:
            name = contentlang.shown(row, field)  # in the visitor's language where translated
            names[facet][row.id] = name.text
            if name.foreign:
                langs[(facet, row.id)] = name.lang
    options: dict[str, list[dict[str, Any]]] = {}
    for facet, labels in names.items():
        counts = results.facets.get(facet, {})
        selected = query.status if facet == "status" else getattr(query, f"{facet}_id")
        values = [v for v in labels if v in counts]
        values.sort(key=lambda v: (-counts.get(v, 0), str(labels[v])))
        options[facet] = [{"value": v, "label": labels[v], "count": counts.get(v, 0), "selected": v == selected,
                           "translate": facet == "status", "lang": langs.get((facet, v))} for v in values]
    return options


@router.get("/search", name="search:results")
def results(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, q: str = "", call: str = "",
            category: str = "", district: str = "", status: str = "", sort: str = "relevance",
            page: str = "1") -> HTMLResponse:
    """The search page: without words, an invitation; with words, results, filters and pages;
    a too long query or one without a word to search gets a message (never an error)."""
    query = read_query(q, call, category, district, status, sort, page)
    message: str | None = None
    found: SearchResults | None = None
    if len(q) > text.MAX_QUERY:
        message = TOO_LONG
        query.text = q[:text.MAX_QUERY]
    elif q.strip() and not text.terms(q):
        message = NO_WORDS
    elif q.strip():
        found = backend_for(session, settings).search(session, query)
    keep = {k: v for k, v in (("q", query.text), ("call", query.call_id), ("category", query.category_id),
                              ("district", query.district_id), ("status", query.status), ("sort", query.sort))
            if v not in (None, "")}
    return render(request, "search/results.html", {
        "query": query, "results": found, "message": message, "max_query": text.MAX_QUERY,
        "facets": _facet_options(session, found, query) if found else {},
        "sort_labels": SORT_LABELS, "query_base": keep,
        "calls": matching_calls(session, query.text) if found is not None and query.page == 1 else [],
    })


@router.get("/calls/{slug}/similar", name="search:similar")
def similar(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, slug: str, title: str = "",
            body: str = "") -> HTMLResponse:
    """The top similar public ideas of a call for what is being typed (`title`, `body`), as the
    fragment templates/search/_similar.html: empty while the title is too short or has no word
    to look for. A call the visitor may not see is a 404, as its page is."""
    call = visible_call_by_slug(session, slug, user)
    assert call.id is not None
    ideas = suggest(session, settings, call.id, title, body)
    return render(request, "search/_similar.html", {"similar": ideas, "status_labels": STATUS_LABELS},
                  headers={"Cache-Control": "no-store"})
