"""How the two database backends (app.search.sqlite_fts, app.search.postgres) search: the
same statements over their own full-text index, described by an `IndexQuery`.

Filters, facets and sorts read the idea table at query time, and so does visibility: a result
is always a public idea *now* (`backend.indexable_condition`), even if the index has not caught
up yet (the outbox does that). The work is bounded (`run`): at most COUNT_CAP + 1 matches are
read per search, so a word found in half the ideas costs what a rarer one does; beyond
COUNT_CAP the results say "more than" (`SearchResults.capped`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join
from sqlmodel import Session, col, select

from app.call.models import Call
from app.call.phases import is_public
from app.idea.models import Idea
from app.search import backend, text
from app.search.backend import (
    FACETS,
    FILTERED,
    MAX_PAGE,
    SIMILAR_CANDIDATES,
    UNANSWERED,
    SearchHit,
    SearchQuery,
    SearchResults,
    filter_tokens,
    indexable_condition,
    shown_body,
)


def filter_conditions(query: SearchQuery, *, without: str = "", bound: bool = False) -> list[ColumnElement[bool]]:
    """The SQL conditions of `query`'s filters on the idea table, but the facet `without`. With
    `bound`, each value is a parameter named after its filter (`filter_params` gives them), so
    that the statement is the same for every query of its shape (`run` reuses it)."""
    def value(name: str, given: Any) -> Any:
        return sa.bindparam(name, type_=sa.Integer if name != "status" else sa.String) if bound else given

    conditions: list[ColumnElement[bool]] = []
    if query.call_id is not None and without != "call":
        conditions.append(col(Idea.call_id) == value("call_id", query.call_id))
    if query.category_id is not None and without != "category":
        conditions.append(col(Idea.category_id) == value("category_id", query.category_id))
    if query.district_id is not None and without != "district":
        conditions.append(col(Idea.district_id) == value("district_id", query.district_id))
    if query.status is not None and without != "status":
        conditions.append(col(Idea.answer_status).is_(None) if query.status == UNANSWERED
                          else col(Idea.answer_status) == value("status", query.status))
    return conditions


def _is_id_filter(condition: ColumnElement[bool]) -> bool:
    """Whether `condition` is one of `filter_conditions`' call, category or district filters."""
    left = getattr(condition, "left", None)
    return getattr(left, "table", None) is Idea.__table__ and getattr(left, "name", "") in (  # type: ignore[attr-defined]
        "call_id", "category_id", "district_id") and getattr(getattr(condition, "right", None), "key", "") in (
        "call_id", "category_id", "district_id")


def filter_params(query: SearchQuery) -> dict[str, Any]:
    """The values of the parameters `filter_conditions(query, bound=True)` names."""
    params: dict[str, Any] = {name: getattr(query, name) for name in ("call_id", "category_id", "district_id")
                              if getattr(query, name) is not None}
    if query.status is not None and query.status != UNANSWERED:
        params["status"] = query.status
    return params


class _IndexFirst(Join):
    """A join whose left side (the full-text index) is the outer loop: written CROSS JOIN for
    SQLite, whose planner never reorders one, a plain JOIN elsewhere. Left to itself, SQLite's
    planner may scan the ideas of a call first and run the FTS5 query again for each of them
    (measured: 5.9 s instead of 1 ms at 5,000 ideas; scripts/bench_search.py)."""

    __visit_name__ = "index_first_join"
    inherit_cache = True


@compiles(_IndexFirst)
def _join(element: _IndexFirst, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_join(element, **kw))


@compiles(_IndexFirst, "sqlite")
def _cross_join(element: _IndexFirst, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left, right = (side._compiler_dispatch(compiler, **kw) for side in (element.left, element.right))
    assert element.onclause is not None
    return f"{left} CROSS JOIN {right} ON {element.onclause._compiler_dispatch(compiler, **kw)}"


def _candidates(name: str, index: "IndexQuery", match: ColumnElement[bool], conditions: list[ColumnElement[bool]],
                limit: Any = backend.COUNT_CAP + 1, titles: bool = False) -> Any:
    """At most `limit` ideas matching `match` under `conditions`, with what facets and sorts
    read, as a MATERIALIZED common table expression `name`: the newest first where the index
    gives them so at no cost (`index.newest_first`), else the first the index finds. Bounded
    whatever the words: a common word's 40,000 matches are never all read, joined nor ranked;
    the index is the outer loop (`_IndexFirst`). The idea table is joined here, so only public
    ideas count. With `titles`, the matches are read from the index's titles (`IndexQuery.title_id`)."""
    idea = Idea.__table__.c  # type: ignore[attr-defined]
    ids = index.title_id if titles else index.id
    statement = (sa.select(idea.id, idea.call_id, idea.category_id, idea.district_id,
                           sa.func.coalesce(idea.answer_status, UNANSWERED).label("status"), idea.vote_count,
                           idea.published_at)
                 .select_from(_IndexFirst(ids.table, Idea.__table__, idea.id == ids))  # type: ignore[attr-defined]
                 .where(match, *conditions).limit(limit))
    chosen = [c for c in conditions if _is_id_filter(c)]
    if chosen and index.filter_match is not None:
        # The chosen call, theme or district as tokens of the index (migration 0021): the index
        # intersects their lists with the words' and gives only matches so filtered, instead of
        # every match being looked up among the filtered ideas' ids (measured at 100,000 ideas,
        # SQLite, a common word: a call 7.4 -> 3.7 ms, a call and a theme 9.5 -> 2.1 ms). The
        # idea table's own conditions stay: a stale index never shows what no longer belongs.
        statement = statement.where(index.filter_match(f"filters_{name}", titles))
    elif index.newest_first and chosen:
        # A call, theme or district chosen may keep one match in a hundred: each match the index
        # gives is first looked up among that few ideas' ids (read once from the indexes of
        # migration 0018), and only those left are joined, instead of joining every match
        # (measured at 100,000 ideas, a call and a theme: CPU p50 42 -> about 20 ms). `+ 0` keeps
        # SQLite from asking FTS5 for each of those ids in turn, which costs 0.1 ms each.
        statement = statement.where((ids + sa.literal_column("0")).in_(
            sa.select(idea.id).where(*chosen).correlate(None)))
    if index.newest_first:
        statement = statement.order_by(ids.desc())
    return statement.cte(name).prefix_with("MATERIALIZED")


@dataclass(frozen=True)
class IndexQuery:
    """How a database backend's index is asked, the same for every search (its words are
    parameters, which `run` is given apart): `name` tells the backends apart, `id` is its idea id
    column, `match` its condition finding every word, `title_match` the same in titles only;
    `newest_first` whether the index returns its matches by descending idea id at no cost (FTS5
    does; a GIN index does not, and ordering would read every match); `title_id` the idea id
    column of the table `title_match` asks (SQLite keeps titles in an FTS5 table of their own);
    `filter_match(name, titles)` the condition finding the filter tokens (`filter_tokens`) given
    as the parameter `name` in the index (of titles with `titles`), whose value
    `filter_value(tokens)` writes (None: the index keeps no filter tokens)."""

    name: str
    id: Any
    match: ColumnElement[bool]
    title_match: ColumnElement[bool]
    newest_first: bool
    title_id: Any
    filter_match: Callable[[str, bool], ColumnElement[bool]] | None = None
    filter_value: Callable[[list[str]], str] | None = None


# Statements of `run`, one per shape (backend, cap, sort, filters set): building and compiling one
# took a fifth of a search's time; SQLAlchemy's compiled cache then finds its SQL text at once.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def narrowed(query: SearchQuery) -> bool:
    """Whether `query` chooses a call and a theme or a district, so that its matches may be read
    from those of its other filters, whose call is then only a condition (`_statement`)."""
    return query.call_id is not None and (query.category_id is not None or query.district_id is not None)


def _statement(query: SearchQuery, index: IndexQuery, derived: bool = False) -> Any:
    """The one statement answering every query of `query`'s shape on `index`: rows ("total",
    None, count), (facet, value, count) and ("page", idea id, rank) for the ranks in
    (:low, :high]; its parameters are the index's words, "calls" (the public calls' ids, an
    expanding IN), `filter_params` and the page's bounds.

    `derived` (for a `narrowed` query): the matches are not read from the index again but taken
    from the candidates of the call facet (every filter but the call: a theme or a district
    belongs to one call, so they are few) that are in the chosen call. That is the whole answer
    only when those candidates are fewer than COUNT_CAP, which the call facet's counts tell:
    `run` asks the full statement otherwise."""
    key = (index.name, backend.COUNT_CAP, query.sort, query.call_id is not None, query.category_id is not None,
           query.district_id is not None, query.status == UNANSWERED, query.status not in (None, UNANSWERED),
           derived)
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    calls = sa.bindparam("calls", expanding=True, type_=sa.Integer)

    def base(without: str = "") -> list[ColumnElement[bool]]:
        return [indexable_condition(), col(Idea.call_id).in_(calls),
                *filter_conditions(query, without=without, bound=True)]

    without: dict[str, Any] = {}
    if derived:
        pool = without["call"] = _candidates("without_call", index, index.match, base("call"), backend.COUNT_CAP)
        found = sa.select(pool).where(pool.c.call_id == sa.bindparam("call_id", type_=sa.Integer)).cte("found")
    else:
        found = _candidates("found", index, index.match, base())
    first = sa.select(found).order_by(found.c.id.desc()).limit(backend.COUNT_CAP).cte("first")
    parts: list[Any] = [sa.select(sa.literal("total"), sa.literal(None, sa.String), sa.func.count()).select_from(found)]
    for name in FACETS:
        chosen = query.status if name == "status" else getattr(query, f"{name}_id")
        rows = first if chosen is None else without[name] if name in without else _candidates(
            f"without_{name}", index, index.match, base(name), backend.COUNT_CAP)
        column = rows.c.status if name == "status" else rows.c[f"{name}_id"]
        parts.append(sa.select(sa.literal(name), sa.cast(column, sa.String), sa.func.count())
                     .select_from(rows).where(column.is_not(None)).group_by(column))
    newest = (first.c.published_at.desc(), first.c.id.desc())
    ordered: Any
    if query.sort == "supported":
        ordered = sa.select(first.c.id, sa.func.row_number().over(order_by=(first.c.vote_count.desc(), *newest)))
    elif query.sort == "newest":
        ordered = sa.select(first.c.id, sa.func.row_number().over(order_by=newest))
    else:
        # Only the page's last rank (:high) of title matches can be on the page: when that many
        # hold the words, the page is theirs; when fewer do, they are all there is, and the rest
        # of the page comes from the other candidates. Reading :high (at most 60 in practice) of
        # them instead of COUNT_CAP spares a filtered search most of a second pass over the index.
        # Nothing holds the words in its title when nothing matches at all: SQLite tests this
        # condition once, before reading the index (a theme of another call, say).
        titled = _candidates("titled", index, index.title_match, [*base(), sa.exists(sa.select(found.c.id))],
                             sa.bindparam("high", type_=sa.Integer), titles=True)
        tiers = sa.union_all(sa.select(titled.c.id, titled.c.published_at, sa.literal(0).label("tier")),
                             sa.select(first.c.id, first.c.published_at, sa.literal(1))
                             .where(first.c.id.not_in(sa.select(titled.c.id)))).subquery("tiers")
        ordered = sa.select(tiers.c.id, sa.func.row_number().over(
            order_by=(tiers.c.tier, tiers.c.published_at.desc(), tiers.c.id.desc())))
    ranked = ordered.subquery("ranked")
    rank = ranked.c[1]
    page_rows = sa.select(sa.literal("page"), sa.cast(ranked.c.id, sa.String), rank).where(
        rank > sa.bindparam("low", type_=sa.Integer), rank <= sa.bindparam("high", type_=sa.Integer))
    statement = sa.union_all(*parts, page_rows)
    _STATEMENTS[key] = statement
    return statement


def filter_token_params(query: SearchQuery, index: IndexQuery) -> dict[str, str]:
    """The values of the parameters `filters_<name>` of `_candidates` for `query`: for the
    candidates of every filter ("found", "titled") and of every filter but one ("without_call",
    ...), the index's tokens of those filters; those a statement does not name are ignored.
    Nothing when `index` keeps no filter tokens or no id filter is chosen."""
    if index.filter_value is None:
        return {}
    chosen = {name: getattr(query, f"{name}_id") for name in FILTERED}
    values = {}
    for name in ("found", "titled", *(f"without_{f}" for f in FACETS)):
        tokens = filter_tokens({f: i for f, i in chosen.items() if name != f"without_{f}"})
        if tokens:
            values[f"filters_{name}"] = index.filter_value(tokens)
    return values


# PostgreSQL's planner settings for a search's statement (`_index_first`): no parallel workers,
# a plan for each search's own words, and only nested loops, the index outer, as SQLite's CROSS
# JOIN (`_IndexFirst`). Left free, the planner joined a call's 1,001 matches by hashing all of
# the call's 10,000 ideas, read from an index whose first column is not the call (15 ms of a
# 30 ms statement at 100,000 ideas); looked up one by one by id, they cost 1 to 2 ms.
_SEARCHING = ("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL plan_cache_mode = force_custom_plan; "
              "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
# Back for the rest of the transaction only (LOCAL): a RESET is the session's, kept by a COMMIT.
_SEARCHED = "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT"


def _index_first(connection: sa.Connection, searching: bool) -> None:
    """On PostgreSQL, the planner's settings of a search's statement (`_SEARCHING`), or back
    to the transaction's usual ones for what follows (the page's other queries); nothing elsewhere."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_SEARCHING if searching else _SEARCHED)


# Built once: SQLAlchemy then finds their compiled SQL without computing a new statement's cache
# key for every search (0.3 ms of one).
_CALLS = select(Call)
_HIT_IDEAS = select(Idea).where(col(Idea.id).in_(sa.bindparam("ids", expanding=True)))


def public_calls(session: Session) -> list[int]:
    """The ids of the calls public now (app.call.phases.is_public): ideas of a call still in
    preparation are indexed (a call opens by date, without any write to reindex them) but are
    not public. Calls are few, so their ids are read rather than joined."""
    return [c.id for c in session.exec(_CALLS).all() if c.id is not None and is_public(c)]


_HELD: dict[str, Any] = {}  # `held_publicly`'s statement per index


def held_publicly(session: Session, index: IndexQuery, held: ColumnElement[bool], value: str,
                  calls: list[int]) -> bool:
    """Whether an idea public now (`indexable_condition`, in one of `calls`) matches `held`, the
    index's condition for one word, whose parameter "held" is `value`: a typo correction is
    only ever a word such an idea holds, never one only ideas of a call in preparation (or not
    yet taken out of the index) hold, which would reveal their words. One row at most is read:
    the index's first public match ends it."""
    if not calls:
        return False
    statement = _HELD.get(index.name)
    if statement is None:
        idea = Idea.__table__.c  # type: ignore[attr-defined]
        statement = _HELD[index.name] = (
            sa.select(sa.literal(1)).select_from(_IndexFirst(index.id.table, Idea.__table__, idea.id == index.id))  # type: ignore[attr-defined]
            .where(held, indexable_condition(), idea.call_id.in_(sa.bindparam("calls", expanding=True)))
            .limit(1))
    return session.connection().execute(statement, {"held": value, "calls": calls}).first() is not None


def run(session: Session, query: SearchQuery, words: list[str], index: IndexQuery,
        params: dict[str, Any]) -> SearchResults:
    """Answer `query` for a database backend, `params` giving the values of the parameters of
    `index`'s conditions (its words), with bounded work whatever the words, in one statement
    (counted, faceted and ordered by the database, never row by row in Python; built once per
    shape of query, `_statement`).

    Candidates are at most COUNT_CAP + 1 matching ideas (`_candidates`: the most recent on
    SQLite, the first the index finds on PostgreSQL), read with the idea table under
    `indexable_condition` and in public calls: a stale index never shows, nor counts, what is
    no longer public. Up to COUNT_CAP matches, the total and the facet counts (each under the
    other filters) are exact; beyond, `capped` says so, and the total, the counts and the pages
    cover COUNT_CAP of them, as Elasticsearch's `track_total_hits` and Meilisearch's
    `maxTotalHits` bound theirs.

    Sorts: supports or date among those; relevance is Meilisearch's "attribute" ranking rule,
    then the most recent: the ideas holding every word in their title (as many as the page's
    last rank, the most recent the index gives, also beyond the candidates; on SQLite from a
    table of titles alone, migration 0019) come before the others, so a title match always
    comes first. (Asking each candidate's title alone instead, by FTS5's highlight() or bm25,
    was measured slower: done for every capped search too, it cost more than the pass it
    saved.) A call chosen with a theme or a district (`narrowed`) first takes its matches from
    those of the other filters (`_statement`'s `derived`), and reads the index for them only
    when those are COUNT_CAP or more. The
    engines' own scores (bm25, ts_rank) are not computed here: they read every match's
    positions (ts_rank reads every tsvector), which is what made a common word slow.

    On PostgreSQL the statement runs without parallel workers (`_index_first`): starting them
    cost more than the thousand rows they would share; with nested loops only; and it is
    planned for its own words every time (`plan_cache_mode`): the statement's text is the same for
    every search of a shape, so psycopg prepares it after five runs, and a generic plan, blind to
    how many ideas a word matches, can be far slower for common words."""

    # Ideas of a call still in preparation are not public either (`public_calls`).
    calls = public_calls(session)
    statement = _statement(query, index)
    connection = session.connection()
    _index_first(connection, True)
    values = {**params, **filter_params(query), **filter_token_params(query, index), "calls": calls}

    def answer(page: int, asked: Any = statement) -> tuple[int, dict[str, dict[Any, int]], list[int]]:
        low = (page - 1) * query.per_page
        total, facets, ids = 0, {name: {} for name in FACETS}, []  # type: ignore[var-annotated]
        rows = connection.execute(asked, {**values, "low": low, "high": min(low + query.per_page, backend.COUNT_CAP)})
        for kind, value, n in rows.all():
            if kind == "total":
                total = int(n)
            elif kind == "page":
                ids.append((int(n), int(value)))
            else:
                facets[kind][value if kind == "status" else int(value)] = int(n)
        return total, facets, [i for _n, i in sorted(ids)]

    if narrowed(query):  # the call's matches read from the call facet's candidates, if they are all
        asked = _statement(query, index, derived=True)
        total, facets, ids = answer(query.page, asked)
        if sum(facets["call"].values()) >= backend.COUNT_CAP:  # there may be more: read them
            asked = statement
            total, facets, ids = answer(query.page, asked)
    else:
        asked = statement
        total, facets, ids = answer(query.page, asked)
    _index_first(connection, False)
    capped = total > backend.COUNT_CAP
    total = min(total, backend.COUNT_CAP)
    pages = max(1, -(-total // query.per_page))
    page = max(1, min(query.page, pages, MAX_PAGE))
    if page != query.page:  # beyond the last page: the last one
        _index_first(connection, True)
        total, facets, ids = answer(page, asked)
        _index_first(connection, False)
        total = min(total, backend.COUNT_CAP)
    ideas = {i.id: i for i in session.exec(_HIT_IDEAS, params={"ids": ids}).all()} if ids else {}
    hits = [SearchHit(idea=idea, title=text.highlight(idea.title, words),
                      excerpt=text.excerpt(shown_body(idea), words))
            for idea in (ideas[i] for i in ids if i in ideas)]
    return SearchResults(hits=hits, total=total, page=page, pages=pages, facets=facets, capped=capped)


def run_similar(session: Session, call_id: int, index: IndexQuery, match: ColumnElement[bool],
                title_match: ColumnElement[bool], rank: Any, exclude_id: int | None, limit: int) -> list[Idea]:
    """The similar ideas for a database backend: the `limit` best by `rank` (ascending), then
    supports, among at most 2 x SIMILAR_CANDIDATES ideas: those matching `match` (any of the
    words) and those matching `title_match` (any of them in the title, where a duplicate shows),
    each the newest the index gives at no cost (`IndexQuery.newest_first`) or the first it finds.
    Bounded like `run`: scoring every match of a few common words (bm25, ts_rank) took 130 ms at
    100,000 ideas (scripts/bench_search.py). Visibility is read from the idea table now, as for
    search: public, not merged, in call `call_id`, never `exclude_id`."""
    idea = Idea.__table__.c  # type: ignore[attr-defined]
    conditions = [indexable_condition(), idea.call_id == call_id]
    if exclude_id is not None:
        conditions.append(idea.id != exclude_id)

    def candidates(words: ColumnElement[bool]) -> Any:
        statement = (sa.select(index.id.label("id"), rank.label("rank"))
                     .select_from(_IndexFirst(index.id.table, Idea.__table__, idea.id == index.id))  # type: ignore[attr-defined]
                     .where(words, *conditions).limit(SIMILAR_CANDIDATES))
        found = (statement.order_by(index.id.desc()) if index.newest_first else statement).subquery()
        return sa.select(found.c.id, found.c.rank)  # a subquery: SQLite takes no LIMIT in a UNION's part

    pool = sa.union_all(candidates(match), candidates(title_match)).subquery("pool")
    best = (sa.select(pool.c.id, sa.func.min(pool.c.rank).label("rank")).group_by(pool.c.id)
            .order_by(sa.func.min(pool.c.rank)).limit(max(0, min(limit, 20))).subquery("best"))
    connection = session.connection()
    _index_first(connection, True)  # as for a search (measured on PostgreSQL: 76 -> 25 ms, parallel workers gone)
    found = session.exec(select(Idea, best.c.rank).join(best, col(Idea.id) == best.c.id)).all()
    _index_first(connection, False)
    return [i for i, _rank in sorted(found, key=lambda row: (row[1], -row[0].vote_count, -(row[0].id or 0)))]
