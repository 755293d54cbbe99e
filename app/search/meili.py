"""The Meilisearch backend, through the official `meilisearch` client (which speaks HTTP with
`requests`). Searches use the search key (or the master key when no search key is set) with a
timeout of MEILI_TIMEOUT_MS; indexing uses the master key, waits for each of Meilisearch's
asynchronous tasks and raises if one fails, so that the outbox tries again. Keys only travel in
the Authorization header: never in a page, a log or an error text.

A document is an idea's words (app.search.backend.IdeaDocument) with what filters, facets and
sorts read: its call, category and district (ids, and names to search), its answer status, its
supports and its publication time, as the database held them when the idea was last indexed.
Filters are built from ids (ints) and known status values only, never from what people type.
Meilisearch picks and orders the hits; the ideas shown are then read from the database under
the same visibility rule as the database backends (`indexable_condition`, public calls), so an
index that has not caught up yet never shows an idea that is no longer public, and titles and
excerpts are the current ones, highlighted by app.search.text on the words Meilisearch matched
(including its typo corrections).

Failures to reach Meilisearch (refused connection, timeout, 5xx, or any answer that is not a
search result) raise `Unavailable`; app.search.engines then asks the database backend."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from meilisearch import Client
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchError,
    MeilisearchTimeoutError,
)
from sqlmodel import Session, col, select

from app.call.models import Call, Category, District
from app.call.phases import is_public
from app.idea.models import AnswerStatus, Idea
from app.search import text
from app.search.backend import (
    FACETS,
    MAX_PAGE,
    PER_PAGE,
    SIMILAR_LIMIT,
    UNANSWERED,
    IdeaDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    document_body,
    empty,
    indexable_condition,
    similar_terms,
)
from app.settings import Settings

PRIMARY_KEY = "id"
INDEX_TIMEOUT_S = 10  # one indexing request (the worker's, never a visitor's)
TASK_TIMEOUT_MS = 30_000  # how long the worker waits for Meilisearch to carry out an indexing task
TASK_INTERVAL_MS = 50
CROP_WORDS = 40  # words of the body Meilisearch returns around its matches (only to learn which words matched)
MAX_TOTAL_HITS = MAX_PAGE * PER_PAGE  # hits Meilisearch counts and pages through at most (10,000)
# The facets of the contract (app.search.backend.FACETS) and the attribute each one reads.
FACET_ATTRIBUTES = {"call": "call_id", "category": "category_id", "district": "district_id", "status": "status"}
STATUS_VALUES = frozenset({UNANSWERED, *(str(s) for s in AnswerStatus)})
SORTS: dict[str, list[str]] = {
    "relevance": [],  # the ranking rules below, newest first among equals
    "supported": ["votes:desc", "created_at:desc", "id:desc"],
    "newest": ["created_at:desc", "id:desc"],
}

# The index settings (PATCH /indexes/{uid}/settings). The ranking rules put `sort` first so that
# "most supported" and "newest" order every match by supports or date, as the database backends
# do; without a sort, `attribute` ranks a match in the title above one in the body.
SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["title", "body", "category", "district"],
    # `id` is filterable for the visibility rules: leaving out one idea (similar ideas) and taking
    # out ideas by id; `call_id` also keeps searches to public calls.
    "filterableAttributes": ["call_id", "category_id", "district_id", "status", "id"],
    "sortableAttributes": ["votes", "created_at", "id"],
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness", "created_at:desc"],
    "stopWords": sorted(text.STOP_WORDS),
    "typoTolerance": {"enabled": True},
    "distinctAttribute": "id",
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
}


class Unavailable(Exception):
    """Meilisearch could not answer a search; `reason` says why in words fit for a log (no key,
    no query, no document)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IndexingFailed(Exception):
    """Meilisearch did not carry out an indexing task; the outbox message is tried again."""


def _reason(error: Exception, timeout_ms: int) -> str:
    """What went wrong, for a log: the kind of failure and Meilisearch's status and error code,
    never the exception's text (which may repeat a response or a URL)."""
    if isinstance(error, (MeilisearchTimeoutError, requests.Timeout)):
        return f"did not answer within {timeout_ms} ms"
    if isinstance(error, (MeilisearchCommunicationError, requests.ConnectionError)):
        return "could not be reached (connection refused or failed)"
    if isinstance(error, MeilisearchApiError):
        code = f", {error.code}" if isinstance(error.code, str) and error.code.replace("_", "").isalnum() else ""
        return f"answered HTTP {int(error.status_code)}{code}"
    return f"gave an unreadable answer ({type(error).__name__})"


def id_filter(attribute: str, ids: list[int]) -> str:
    """A filter expression `attribute IN [1, 2]`, from ints only."""
    return f"{attribute} IN [{', '.join(str(int(i)) for i in ids)}]"


def filters(query: SearchQuery, public_calls: list[int], *, without: str = "") -> list[str] | None:
    """The filter expressions (all must hold) of `query` for Meilisearch, but the facet `without`:
    always the public calls, then each filter by id or by a known answer status. None when no idea
    can match (no public call, or a status that does not exist)."""
    if not public_calls:
        return None
    expressions = [id_filter("call_id", public_calls)]
    for facet, value in (("call", query.call_id), ("category", query.category_id), ("district", query.district_id)):
        if value is not None and without != facet:
            expressions.append(f"{FACET_ATTRIBUTES[facet]} = {int(value)}")
    if query.status is not None and without != "status":
        if query.status not in STATUS_VALUES:
            return None
        # The value written is ours (a member of STATUS_VALUES), made of [a-z_] only.
        known = next(v for v in STATUS_VALUES if v == query.status)
        expressions.append(f'status = "{known}"')
    return expressions


def _timestamp(moment: datetime) -> float:
    """Seconds since 1970 (UTC) of a datetime read from the database (naive on SQLite: UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _marked(formatted: Any) -> list[str]:
    """The folded words Meilisearch marked (between text.MARK_START and text.MARK_END) in a hit's
    `_formatted` fields: what it matched, typo corrections included."""
    words: list[str] = []
    if not isinstance(formatted, dict):
        return words
    for value in formatted.values():
        if not isinstance(value, str):
            continue
        for piece in value.split(text.MARK_START)[1:]:
            for word in text.words_only(text.fold(piece.split(text.MARK_END, 1)[0])).split():
                if len(word) >= text.MIN_TERM and word not in words:
                    words.append(word)
    return words


class MeiliBackend:
    """The contract of app.search.backend.SearchBackend on a Meilisearch index."""

    name = "meilisearch"
    corrects_typos = True

    _prepared: ClassVar[set[tuple[str, str]]] = set()  # (url, index) whose settings this process has sent

    def __init__(self, settings: Settings) -> None:
        self.url = settings.meili_url
        self.uid = settings.meili_index
        self.timeout_ms = settings.meili_timeout_ms
        # The client's timeout is in seconds and is handed to requests, which takes a float.
        master_key = settings.meili_master_key.get_secret_value()
        search_key = settings.meili_search_key.get_secret_value() or master_key
        self._indexer = Client(self.url, master_key or None, timeout=INDEX_TIMEOUT_S)
        self._searcher = Client(self.url, search_key or None, timeout=self.timeout_ms / 1000)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"MeiliBackend(index={self.uid!r})"

    # --- Indexing (the worker and `reinventons reindex`) ---------------------------------------

    @contextmanager
    def _indexing(self, what: str) -> Iterator[None]:
        """Turn any failure of an indexing request into IndexingFailed with a text fit for the
        outbox's log and its admins (no key, no response, no URL)."""
        try:
            yield
        except IndexingFailed:
            raise
        except (MeilisearchError, requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise IndexingFailed(f"Meilisearch {_reason(error, INDEX_TIMEOUT_S * 1000)} while {what}") from None

    def _wait(self, task_uid: int) -> None:
        """Wait for task `task_uid`; raise IndexingFailed unless it succeeded in TASK_TIMEOUT_MS."""
        try:
            task = self._indexer.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS,
                                               interval_in_ms=TASK_INTERVAL_MS)
        except MeilisearchTimeoutError:
            raise IndexingFailed(f"Meilisearch task {task_uid} not done within {TASK_TIMEOUT_MS} ms") from None
        if task.status != "succeeded":
            code = (task.error or {}).get("code", "")
            raise IndexingFailed(f"Meilisearch task {task_uid} ({task.type}) {task.status}: {code}")

    def prepare(self) -> None:
        """Create the index if it does not exist and send its settings (once per process)."""
        if (self.url, self.uid) in self._prepared:
            return
        with self._indexing("preparing the index"):
            try:
                self._indexer.get_raw_index(self.uid)
            except MeilisearchApiError as error:
                if error.code != "index_not_found":
                    raise
                self._wait(self._indexer.create_index(self.uid, {"primaryKey": PRIMARY_KEY}).task_uid)
            self._wait(self._indexer.index(self.uid).update_settings(dict(SETTINGS)).task_uid)
        self._prepared.add((self.url, self.uid))

    def documents(self, session: Session, documents: list[IdeaDocument]) -> list[dict[str, Any]]:
        """The Meilisearch documents of `documents`: their words, and from the idea table what
        filters, facets and sorts read. An idea no longer in the database is left out."""
        ids = [d.idea_id for d in documents]
        ideas = {i.id: i for i in session.exec(select(Idea).where(col(Idea.id).in_(ids))).all()}
        category_ids = {i.category_id for i in ideas.values() if i.category_id is not None}
        district_ids = {i.district_id for i in ideas.values() if i.district_id is not None}
        categories = {c.id: c.name for c in session.exec(select(Category).where(col(Category.id).in_(category_ids)))}
        districts = {d.id: d.name for d in session.exec(select(District).where(col(District.id).in_(district_ids)))}
        result = []
        for document in documents:
            idea = ideas.get(document.idea_id)
            if idea is None:
                continue
            result.append({
                "id": document.idea_id,
                "title": document.title,
                "body": document.body,
                "category": text.clean(categories.get(idea.category_id, "")),
                "district": text.clean(districts.get(idea.district_id, "")),
                "call_id": idea.call_id,
                "category_id": idea.category_id,
                "district_id": idea.district_id,
                "status": idea.answer_status or UNANSWERED,
                "votes": idea.vote_count,
                "created_at": _timestamp(idea.published_at or idea.created_at),
            })
        return result

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        """Add or replace `documents` and wait until Meilisearch has: raises IndexingFailed
        otherwise."""
        payload = self.documents(session, documents)
        if not payload:
            return
        self.prepare()
        with self._indexing("adding documents"):
            self._wait(self._indexer.index(self.uid).add_documents(payload, primary_key=PRIMARY_KEY).task_uid)

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        """Take `idea_ids` out of the index (a delete by filter on `id`), waiting for it."""
        if not idea_ids:
            return
        self.prepare()
        with self._indexing("removing documents"):
            self._wait(self._indexer.index(self.uid).delete_documents(filter=id_filter("id", idea_ids)).task_uid)

    def clear(self, session: Session) -> None:
        """Empty the index (creating it and sending its settings first, as before a rebuild)."""
        self._prepared.discard((self.url, self.uid))
        self.prepare()
        with self._indexing("emptying the index"):
            self._wait(self._indexer.index(self.uid).delete_all_documents().task_uid)

    # --- Searching -----------------------------------------------------------------------------

    def _ask(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST /multi-search with the search key; raise Unavailable on any failure."""
        try:
            answer = self._searcher.multi_search(queries)
            results = answer["results"]
            if not isinstance(results, list) or len(results) != len(queries) \
                    or not all(isinstance(r, dict) for r in results):
                raise ValueError("not one result per query")
            return results
        except (MeilisearchError, requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise Unavailable(_reason(error, self.timeout_ms)) from None

    def search_payload(self, query: SearchQuery, words: list[str], expressions: list[str],
                       page: int) -> dict[str, Any]:
        """The search of one page of results (POST /multi-search's first query)."""
        payload: dict[str, Any] = {
            "indexUid": self.uid, "q": " ".join(words), "filter": expressions,
            "facets": [FACET_ATTRIBUTES[f] for f in FACETS],
            "page": page, "hitsPerPage": query.per_page,
            "attributesToRetrieve": ["id", "title", "body"],
            "attributesToHighlight": ["title", "body"],
            "highlightPreTag": text.MARK_START, "highlightPostTag": text.MARK_END,
            "attributesToCrop": ["body"], "cropLength": CROP_WORDS,
            "matchingStrategy": "all",  # every word must be found, as in the database backends
        }
        if SORTS.get(query.sort):
            payload["sort"] = SORTS[query.sort]
        return payload

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        """Answer `query`: one page by Meilisearch, each facet counted under the other filters
        (one more query per facet with a filter chosen, in the same multi-search), hits read
        from the database under the visibility rules. Raises Unavailable."""
        words = text.terms(query.text)
        if not words:
            return empty()
        public_calls = sorted(c.id for c in session.exec(select(Call)).all() if c.id is not None and is_public(c))
        expressions = filters(query, public_calls)
        if expressions is None:
            return empty()
        page = max(1, min(query.page, MAX_PAGE))
        queries = [self.search_payload(query, words, expressions, page)]
        own = [f for f in FACETS if (query.status if f == "status" else getattr(query, f"{f}_id")) is not None]
        for facet in own:
            queries.append({"indexUid": self.uid, "q": " ".join(words), "matchingStrategy": "all",
                            "filter": filters(query, public_calls, without=facet),
                            # page 0: no hit, but exhaustive counts (Meilisearch's documented way)
                            "facets": [FACET_ATTRIBUTES[facet]], "page": 0})
        results = self._ask(queries)
        main = results[0]
        pages = max(1, int(main.get("totalPages") or 0))
        if page > pages:  # beyond the last page: the last one, as the database backends answer
            page = pages
            queries[0] = self.search_payload(query, words, expressions, page)
            main = self._ask(queries[:1])[0]
        distribution: dict[str, dict[str, int]] = dict(main.get("facetDistribution") or {})
        for facet, result in zip(own, results[1:], strict=True):
            attribute = FACET_ATTRIBUTES[facet]
            distribution[attribute] = (result.get("facetDistribution") or {}).get(attribute, {})
        facets: dict[str, dict[Any, int]] = {}
        for facet in FACETS:
            counts = distribution.get(FACET_ATTRIBUTES[facet]) or {}
            facets[facet] = {(value if facet == "status" else int(value)): int(n) for value, n in counts.items()
                             if facet == "status" or str(value).isdigit()}
        hits_in = [h for h in main.get("hits") or [] if isinstance(h, dict) and str(h.get("id", "")).isdigit()]
        ids = [int(h["id"]) for h in hits_in]
        marked = {int(h["id"]): _marked(h.get("_formatted")) for h in hits_in}
        ideas = self._visible(session, ids, public_calls)
        hits = []
        for idea_id in ids:
            idea = ideas.get(idea_id)
            if idea is None:
                continue
            found = words + [w for w in marked[idea_id] if w not in words]
            hits.append(SearchHit(idea=idea, title=text.highlight(idea.title, found),
                                  excerpt=text.excerpt(document_body(idea), found)))
        # Ideas the index still holds but that are no longer public are not counted either.
        total = max(len(hits), int(main.get("totalHits") or 0) - (len(ids) - len(hits)))
        # Meilisearch counts up to maxTotalHits (the pagination setting): reaching it, there may be more.
        capped = int(main.get("totalHits") or 0) >= MAX_TOTAL_HITS
        return SearchResults(hits=hits, total=total, page=page, pages=pages, facets=facets, capped=capped)

    def _visible(self, session: Session, ids: list[int], public_calls: list[int] | None = None) -> dict[int, Idea]:
        """The ideas among `ids` that belong in the index now (and, if given, in `public_calls`)."""
        if not ids:
            return {}
        statement = select(Idea).where(col(Idea.id).in_(ids), indexable_condition())
        if public_calls is not None:
            statement = statement.where(col(Idea.call_id).in_(public_calls))
        return {i.id: i for i in session.exec(statement).all() if i.id is not None}

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        """Ideas of call `call_id` sharing words with `text`, Meilisearch's best first: its
        `frequency` matching strategy drops the commonest words until ideas match, so ideas
        sharing any of the words are found and those sharing more come first. Raises Unavailable."""
        words = similar_terms(text)
        limit = max(0, min(limit, 20))
        if not words or not limit:
            return []
        expressions = [f"call_id = {int(call_id)}"]
        if exclude_id is not None:
            expressions.append(f"id != {int(exclude_id)}")
        result = self._ask([{"indexUid": self.uid, "q": " ".join(words), "filter": expressions,
                             "limit": limit + 5, "attributesToRetrieve": ["id"],
                             "matchingStrategy": "frequency"}])[0]
        ids = [int(h["id"]) for h in result.get("hits") or [] if isinstance(h, dict) and str(h.get("id", "")).isdigit()]
        ideas = self._visible(session, ids)
        return [ideas[i] for i in ids if i in ideas and ideas[i].call_id == call_id][:limit]
