"""The search backend contract: what is indexed for an idea (`document_for`), which ideas are
(`indexable_condition`), and the query and results every backend speaks.

A backend keeps an index of idea documents (`index`, `remove`, `clear`) and answers a
`SearchQuery` with a `SearchResults`: one page of hits, the total, and facet counts. The two
database backends share their statements (app.search.sql); Meilisearch is app.search.meili.
Which backend answers is chosen in app.search.engines.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlmodel import Session, col

from app.idea.models import Idea, IdeaStatus
from app.idea.queries import public_condition
from app.richtext import plain_excerpt, plain_text
from app.search import text

PER_PAGE = 20
SIMILAR_LIMIT = 5  # similar ideas proposed while an idea is written or moderated
SIMILAR_MIN_TITLE = 3  # characters typed in a title before similar ideas are looked for
SIMILAR_CANDIDATES = 500  # ideas scored for similarity, twice: matching any word, and any word of the title
SIMILAR_MAX_TEXT = 2_000  # characters of a title and body read for similar ideas; the rest adds little
MAX_PAGE = 500
COUNT_CAP = 1_000  # matches counted, faceted and paged at most (Meilisearch's maxTotalHits default is 1,000)
SORTS = ("relevance", "supported", "newest")
FACETS = ("call", "category", "district", "status")
UNANSWERED = "unanswered"  # the status facet's value for ideas without an official answer


@dataclass(frozen=True)
class IdeaDocument:
    """What is indexed of one public idea: its id and its words (title, plain-text body), and
    the ids its search filters choose by (`filters`: FILTERED names to ids, None for none),
    which the database backends index as tokens of their own (`filter_tokens`)."""

    idea_id: int
    title: str
    body: str
    filters: dict[str, int | None] = field(default_factory=dict)


# The filters whose ids the database backends keep in their full-text index (migration 0021), so
# that a filtered search is one intersection of the index's lists: a call, a theme, a district.
FILTERED = ("call", "category", "district")
_FILTER_LETTER = {"call": "c", "category": "t", "district": "d"}


def filter_tokens(filters: dict[str, int | None]) -> list[str]:
    """The index tokens of `filters` (FILTERED names to ids, None or absent for none): "c3" for
    call 3, "t45" for theme 45, "d6" for district 6, in FILTERED's order."""
    return [f"{_FILTER_LETTER[name]}{filters[name]}" for name in FILTERED if filters.get(name) is not None]


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
    count, and per facet (FACETS) a {value: count} map, each counted under the other filters.
    `capped`: more ideas match than `total`, which is then the most an engine counts
    (COUNT_CAP for the database backends): the total, the facet counts and the pages cover that
    many matches only, and the page says "more than"."""

    hits: list[SearchHit]
    total: int
    page: int
    pages: int
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)
    capped: bool = False


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


def similar_terms(value: str) -> list[str]:
    """The words looked for among similar ideas: those of the first SIMILAR_MAX_TEXT
    characters of `value` (title first, then body), as app.search.text.terms keeps them."""
    return text.terms(value[:SIMILAR_MAX_TEXT])


def document_body(idea: Idea) -> str:
    """The plain text of an idea's body as indexed and shown in excerpts."""
    return text.clean(plain_excerpt(idea.body_md, 100_000))


def shown_body(idea: Idea) -> str:
    """The plain text of an idea's body for an excerpt, as `document_body` but read from the
    HTML stored at write (app.richtext: the same text, tags left out by nh3), which is ten times
    quicker than rendering the Markdown again; from the Markdown when no HTML is stored."""
    if not idea.body_html:
        return document_body(idea)
    return text.clean(plain_text(idea.body_html))


def answer_text(idea: Idea) -> str:
    """The plain text of an idea's official answer and of its translations, one per line (""
    without an answer): a reader searches in their language (app.contentlang, kind "answer")."""
    if not idea.answer_html:
        return ""
    translated = [str(fields.get("answer_md", {}).get("html") or "")
                  for _lang, fields in sorted((idea.answer_translations or {}).items())]
    return "\n".join(text.clean(plain_text(html)) for html in (idea.answer_html, *translated) if html)


def document_for(idea: Idea) -> IdeaDocument:
    """The document indexed for `idea` (which must have an id): its title, and as its body the
    idea's text followed by the city's official answer, so that the words of an answer find
    the idea it answers (excerpts still show the idea's own text)."""
    assert idea.id is not None
    body = document_body(idea)
    answer = answer_text(idea)
    return IdeaDocument(idea_id=idea.id, title=text.clean(idea.title), body=f"{body}\n{answer}" if answer else body,
                        filters={"call": idea.call_id, "category": idea.category_id, "district": idea.district_id})


def empty() -> SearchResults:
    """No results (a query without any word to search for)."""
    return SearchResults(hits=[], total=0, page=1, pages=1, facets={name: {} for name in FACETS})

