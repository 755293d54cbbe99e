"""The search backend contract, and what every database backend shares.

A backend keeps an index of idea documents (`index`, `remove`, `clear`) and answers a
`SearchQuery` with a `SearchResults`: one page of hits, the total, and facet counts. The
database backends keep only the words in their index; filters, facets and sorts read the idea
table at query time, and so does visibility: a result is always a public idea *now*
(`indexable_condition`), even if the index has not caught up yet (the outbox does that).
Which backend answers is chosen in app.search.engines.
"""

import html
from dataclasses import dataclass, field
from typing import Any, Protocol

import nh3
import sqlalchemy as sa
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from app.call.models import Call
from app.call.phases import is_public
from app.idea.models import Idea, IdeaStatus
from app.idea.queries import public_condition
from app.richtext import plain_excerpt
from app.search import text

PER_PAGE = 20
SIMILAR_LIMIT = 5  # similar ideas proposed while an idea is written or moderated
SIMILAR_MIN_TITLE = 3  # characters typed in a title before similar ideas are looked for
SIMILAR_MAX_TEXT = 2_000  # characters of a title and body read for similar ideas; the rest adds little
MAX_PAGE = 500
SORTS = ("relevance", "supported", "newest")
FACETS = ("call", "category", "district", "status")
UNANSWERED = "unanswered"  # the status facet's value for ideas without an official answer


@dataclass(frozen=True)
class IdeaDocument:
    """What is indexed of one public idea: its id and its words (title, plain-text body)."""

    idea_id: int
    title: str
    body: str


@dataclass
class SearchQuery:
    """A search: the words typed (`text`), filters by id or answer status (None: any), a sort
    among SORTS, a page from 1."""

    text: str
    call_id: int | None = None
    category_id: int | None = None
    district_id: int | None = None
    status: str | None = None  # UNANSWERED or an AnswerStatus value
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class SearchHit:
    idea: Idea
    title: list[text.Segment]
    excerpt: list[text.Segment]


@dataclass
class SearchResults:
    """One page of hits, the total over all pages, the page (clamped to the last), the page
    count, and per facet (FACETS) a {value: count} map, each counted under the other filters."""

    hits: list[SearchHit]
    total: int
    page: int
    pages: int
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)


class SearchBackend(Protocol):
    """One search engine behind the contract the tests in tests/search check for every backend."""

    name: str
    corrects_typos: bool  # whether a one-letter typo in a query word still finds the word

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        """Add or replace `documents` in the index (in the caller's transaction)."""

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        """Take the ideas `idea_ids` out of the index; absent ones are ignored."""

    def clear(self, session: Session) -> None:
        """Empty the index (before a rebuild)."""

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        """The results of `query`; a query without any word to search returns nothing."""

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        """At most `limit` public ideas of call `call_id` sharing words with `text` (any of
        them, not all: a new title rarely repeats an old one word for word), the most alike
        first, never idea `exclude_id`; [] when `text` has no word to look for."""


def indexable_condition() -> ColumnElement[bool]:
    """Ideas that belong in the index: public (app.idea.queries, the one definition) and not
    merged into another, since a merged idea's page leads to the idea it was merged into."""
    return public_condition() & (col(Idea.status) != IdeaStatus.merged)


def filter_conditions(query: SearchQuery, *, without: str = "") -> list[ColumnElement[bool]]:
    """The SQL conditions of `query`'s filters on the idea table, but the facet `without`."""
    conditions: list[ColumnElement[bool]] = []
    if query.call_id is not None and without != "call":
        conditions.append(col(Idea.call_id) == query.call_id)
    if query.category_id is not None and without != "category":
        conditions.append(col(Idea.category_id) == query.category_id)
    if query.district_id is not None and without != "district":
        conditions.append(col(Idea.district_id) == query.district_id)
    if query.status is not None and without != "status":
        conditions.append(col(Idea.answer_status).is_(None) if query.status == UNANSWERED
                          else col(Idea.answer_status) == query.status)
    return conditions


FACET_COLUMNS: dict[str, Any] = {
    "call": col(Idea.call_id),
    "category": col(Idea.category_id),
    "district": col(Idea.district_id),
    "status": func.coalesce(col(Idea.answer_status), UNANSWERED),
}


def _matches(matched: Any, match: ColumnElement[bool], rank: Any = None) -> Any:
    """The index's rows matching `match` (with their `rank` when given), as a MATERIALIZED
    common table expression: the full-text query runs once per statement. Joined directly
    instead, SQLite's planner may scan the ideas first and run the FTS5 query again for every
    one of them (measured: 5.9 s instead of 1 ms at 5,000 ideas; scripts/bench_search.py).
    The rank is only asked for by the statement that orders the page: computed for every
    match (ts_rank on PostgreSQL), it is the costly part. `AS MATERIALIZED` is understood by
    SQLite 3.35+ and PostgreSQL 12+."""
    columns = [matched.label("id")] + ([rank.label("rank")] if rank is not None else [])
    return sa.select(*columns).where(match).cte("matched").prefix_with("MATERIALIZED")


def run(session: Session, query: SearchQuery, words: list[str], matched: Any, match: ColumnElement[bool],
        rank: Any) -> SearchResults:
    """Answer `query` for a database backend: `matched` is the index's id column, joined to
    `idea.id`, `match` its full-text condition, `rank` a relevance where lower comes first.
    Counts, facets and the page come from the idea table, under `indexable_condition` and in
    public calls only, so a stale index never shows what is no longer public."""

    # Ideas of a call still in preparation are not public either (app.call.phases.is_public);
    # calls are few, so their ids are read here rather than joined.
    public_calls = [c.id for c in session.exec(select(Call)).all() if is_public(c)]

    def base(without: str = "") -> list[ColumnElement[bool]]:
        return [indexable_condition(), col(Idea.call_id).in_(public_calls), *filter_conditions(query, without=without)]

    found = _matches(matched, match)
    join = col(Idea.id) == found.c.id
    total = int(session.exec(select(func.count()).select_from(Idea).join(found, join).where(*base())).one())
    facets: dict[str, dict[Any, int]] = {}
    for name in FACETS:
        column = FACET_COLUMNS[name]
        rows = session.execute(sa.select(column, func.count()).select_from(Idea).join(found, join)
                               .where(*base(name)).group_by(column)).all()
        facets[name] = {value: int(n) for value, n in rows if value is not None}
    pages = max(1, -(-total // query.per_page))
    page = max(1, min(query.page, pages, MAX_PAGE))
    newest: tuple[Any, ...] = (col(Idea.published_at).desc(), col(Idea.id).desc())
    order: tuple[Any, ...]
    if query.sort == "supported":
        order = (col(Idea.vote_count).desc(), *newest)
    elif query.sort == "newest":
        order = newest
    else:
        ranked = _matches(matched, match, rank)
        found, join = ranked, col(Idea.id) == ranked.c.id
        order = (ranked.c.rank, *newest)
    ideas = session.exec(select(Idea).join(found, join).where(*base()).order_by(*order)
                         .offset((page - 1) * query.per_page).limit(query.per_page)).all()
    hits = [SearchHit(idea=idea, title=text.highlight(idea.title, words),
                      excerpt=text.excerpt(document_body(idea), words)) for idea in ideas]
    return SearchResults(hits=hits, total=total, page=page, pages=pages, facets=facets)


def similar_terms(value: str) -> list[str]:
    """The words looked for among similar ideas: those of the first SIMILAR_MAX_TEXT
    characters of `value` (title first, then body), as app.search.text.terms keeps them."""
    return text.terms(value[:SIMILAR_MAX_TEXT])


def run_similar(session: Session, call_id: int, matched: Any, match: ColumnElement[bool], rank: Any,
                exclude_id: int | None, limit: int) -> list[Idea]:
    """The similar ideas for a database backend: `matched`, `match` and `rank` as for `run`
    (`match` finding any of the words). Visibility is read from the idea table now, as for
    search: public, not merged, in call `call_id`, never `exclude_id`."""
    found = _matches(matched, match, rank)
    conditions = [indexable_condition(), col(Idea.call_id) == call_id]
    if exclude_id is not None:
        conditions.append(col(Idea.id) != exclude_id)
    order = (found.c.rank, col(Idea.vote_count).desc(), col(Idea.id).desc())
    return list(session.exec(select(Idea).join(found, col(Idea.id) == found.c.id).where(*conditions)
                             .order_by(*order).limit(max(0, min(limit, 20)))).all())


def document_body(idea: Idea) -> str:
    """The plain text of an idea's body as indexed and shown in excerpts."""
    return text.clean(plain_excerpt(idea.body_md, 100_000))


def answer_text(idea: Idea) -> str:
    """The plain text of an idea's official answer ("" without one)."""
    if not idea.answer_html:
        return ""
    return text.clean(" ".join(html.unescape(nh3.clean(idea.answer_html, tags=set())).split()))


def document_for(idea: Idea) -> IdeaDocument:
    """The document indexed for `idea` (which must have an id): its title, and as its body the
    idea's text followed by the city's official answer, so that the words of an answer find
    the idea it answers (excerpts still show the idea's own text)."""
    assert idea.id is not None
    body = document_body(idea)
    answer = answer_text(idea)
    return IdeaDocument(idea_id=idea.id, title=text.clean(idea.title), body=f"{body}\n{answer}" if answer else body)


def empty() -> SearchResults:
    """No results (a query without any word to search for)."""
    return SearchResults(hits=[], total=0, page=1, pages=1, facets={name: {} for name in FACETS})

