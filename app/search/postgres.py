"""The PostgreSQL backend: a table `idea_search` (idea_id, document tsvector) with a GIN index,
created by migration 0006. Documents use the `simple` configuration (no language stemming:
ideas are written in several languages) over `unaccent`ed text, the title weighted A and the
body B, ranked by ts_rank; both tsvectors hold the idea's call, theme and district as lexemes
marked FILTER_MARK (migration 0021), which a filtered search asks with its words. A word of the
query found nowhere in the index is replaced by the closest indexed word (one edit away, else by
`pg_trgm` similarity, over `idea_search_word`, the words the indexed ideas hold: those of ideas
removed or edited since they were indexed leave it when no other idea holds them) that an idea
public now holds (`corrected`): "ecolle" finds "école", "fontanie" "fontaine".

Queries are built from the words of app.search.text.terms as `unaccent` writes them, joined by
`&`: the last word a prefix, written as the indexed words it starts, the earlier ones whole
words where the index holds them (`query_words`). `websearch_to_tsquery` reads what people type well but has no
prefix search, which the contract requires ("eco" finds "école"); since the words carry no
operator, `to_tsquery` over them is as safe."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlmodel import Session

from app.idea.models import Idea
from app.search import backend, sql
from app.search.backend import SIMILAR_LIMIT, IdeaDocument, SearchQuery, SearchResults, filter_tokens
from app.search.text import VOCABULARY_MAX, VOCABULARY_MIN, terms, words_only
from app.search.typos import CORRECTIONS_TRIED, one_edit_away

TABLE = "idea_search"
CONFIG: sa.ColumnClause[Any] = sa.literal_column("'simple'::regconfig")

_table = sa.table(TABLE, sa.column("idea_id"), sa.column("document", TSVECTOR), sa.column("title", TSVECTOR))
# The words are given `unaccent`ed already (`unaccented_words`): `to_tsquery` of constants is then a
# constant the planner computes once and estimates from the index's statistics, where
# `unaccent` (a STABLE function) inside the statement was computed again for every row read
# (at 100,000 ideas, 7 us a row: 11 ms for the 1,500 rows a common word's candidates read) and
# left the planner blind to how common the words are.
_tsquery = sa.func.to_tsquery(CONFIG, sa.bindparam("match", type_=sa.String))
# What app.search.sql.run asks the index, its words as the parameter "match" (`query_words`).
FILTER_MARK = "#"  # starts the filters' lexemes ("#c3"): no query word has one (app.search.text.terms)


def filters_query(tokens: list[str]) -> str:
    """A tsquery text finding every filter token of `tokens` (app.search.backend.filter_tokens)
    as the lexemes indexing writes: `'#c3' & '#t45'`, read by a cast (no parser, which would
    drop the mark)."""
    return " & ".join(f"'{FILTER_MARK}{token}'" for token in tokens)


def _filter_match(name: str, titles: bool) -> sa.ColumnElement[bool]:
    column = _table.c.title if titles else _table.c.document
    return column.op("@@")(sa.cast(sa.bindparam(name, type_=sa.String), TSQUERY))


INDEX = sql.IndexQuery("postgresql", _table.c.idea_id, _table.c.document.op("@@")(_tsquery),
                           _table.c.title.op("@@")(_tsquery), newest_first=False,  # GIN: no order
                           title_id=_table.c.idea_id, filter_match=_filter_match, filter_value=filters_query)

# Both tsvectors hold the idea's filter tokens too (migration 0021), as lexemes marked with
# FILTER_MARK, which no query word matches.
_UPSERT = sa.text("""
    INSERT INTO idea_search (idea_id, document, title)
    VALUES (:id, setweight(to_tsvector('simple', unaccent(:title)), 'A')
                 || setweight(to_tsvector('simple', unaccent(:body)), 'B')
                 || array_to_tsvector(CAST(:filters AS text[])),
            to_tsvector('simple', unaccent(:title)) || array_to_tsvector(CAST(:filters AS text[])))
    ON CONFLICT (idea_id) DO UPDATE SET document = excluded.document, title = excluded.title
""")


# The lexemes of ideas just written (VOCABULARY_MIN letters or more, however long: a prefix must
# find a word of 60 letters too, app.search.text.prefix_words; without the filters' tokens) into
# `idea_search_word`: the words exactly as the index holds them (migration 0040), which
# `query_words` expands a prefix into.
_WORDS = sa.text("INSERT INTO idea_search_word (word) SELECT DISTINCT l.lexeme FROM idea_search, "
                 "unnest(document) AS l(lexeme, positions, weights) WHERE idea_id = ANY(:ids) "
                 "AND length(l.lexeme) >= :shortest AND l.lexeme NOT LIKE '#%' "
                 "ON CONFLICT (word) DO NOTHING")
# A query word shorter than this is never corrected: too few trigrams to tell a typo from another word.
TYPO_MIN_LENGTH = VOCABULARY_MIN
TYPO_SIMILARITY = 0.45  # pg_trgm similarity of a correction; "ecolle"/"ecole" is 0.625, "parc"/"pare" 0.25
# The indexed words starting with a query word, in order: the word itself first when the index
# holds it. Expanding a prefix of fewer letters could miss the shorter words starting with it,
# which `idea_search_word` does not keep (VOCABULARY_MIN).
_STARTING = sa.text("SELECT word FROM idea_search_word WHERE word LIKE :prefix ORDER BY word LIMIT :limit")
EXPANSIONS_MAX = 64  # indexed words a prefix may stand for; beyond, a prefix lexeme (as on SQLite)
PREFIX_EXPANDED_MIN = VOCABULARY_MIN - 1
# Candidate corrections, best first: the indexed words one edit away (app.search.typos, as on
# SQLite: a B-tree lookup each, which finds "fontaine" for "fontanie", two letters swapped, whose
# trigram similarity is only 0.38), then those at least TYPO_SIMILARITY alike by trigrams
# ("ecolle" -> "ecole"), each by similarity, then alphabetically.
_ONE_EDIT = sa.text("SELECT word FROM idea_search_word WHERE word = ANY(CAST(:words AS text[])) "
                    "ORDER BY similarity(word, :word) DESC, word LIMIT :limit")
_CLOSEST = sa.text("SELECT word FROM idea_search_word WHERE word % :word AND similarity(word, :word) >= :least "
                   "ORDER BY similarity(word, :word) DESC, word LIMIT :limit")
# Whether an idea public now holds a word (app.search.sql.held_publicly): the word as a lexeme.
_HELD_WORD = _table.c.document.op("@@")(sa.cast(sa.bindparam("held", type_=sa.String), TSQUERY))
# The words of removed ideas (`remove`), and those an edit took out (`index`), that no idea of the
# index holds any longer leave `idea_search_word`: a correction never names a word only a hidden
# or removed idea had, or an edit took out. They are checked when the worker removes or
# rewrites an idea, not at each search: whether a word is indexed is
# one read of the GIN index, which reads the word's whole list (5 to 8 ms for a word of 20,000
# ideas among 100,000), too much for a search, fine for the worker.
_WORDS_OF = sa.text("SELECT DISTINCT lexeme FROM idea_search, unnest(document) AS l(lexeme, positions, weights) "
                    "WHERE idea_id = ANY(:ids)")
_UNHELD = sa.text("DELETE FROM idea_search_word AS w WHERE w.word = ANY(CAST(:words AS text[])) AND NOT EXISTS "
                  "(SELECT 1 FROM idea_search WHERE document @@ CAST(quote_literal(w.word) AS tsquery))")


def corrected(session: Session, words: list[str]) -> list[str]:
    """`words` (as the index writes them: `unaccented_words`) with each one that starts no
    indexed word replaced by the best candidate correction (`_ONE_EDIT`, then `_CLOSEST`) that
    an idea public now holds (app.search.sql.held_publicly: the index also holds the ideas of
    calls in preparation, whose words must never be proposed), at most CORRECTIONS_TRIED of
    them asked; left as it is when there is none."""
    return [word for word, _fragment in query_words(session, words, unheld=True)]


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def query_words(session: Session, words: list[str], unheld: bool = False,
                before: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """`words` (as the index writes them: `unaccented_words`) corrected, each with its part of
    the tsquery: only the last word is a prefix, as Meilisearch and Algolia do ("Prefix search
    is only performed on the last word in a search query—prior words must be typed out fully",
    meilisearch.com/docs/learn/advanced/prefix; Algolia's default `queryType`, prefixLast), so
    that a single word stays a prefix ("eco" finds "école"). An earlier word is a whole word
    (`'energie'`) when an idea public now holds it (app.search.sql.held_publicly), else it
    stays a prefix ("cycl pistes" still finds "cyclables"), as does a word shorter than those
    `idea_search_word` keeps.

    A prefix is written as the indexed words it starts (`('ecole' | 'ecoles')`, read from
    `idea_search_word`, the index's own lexemes since migration 0040), as Lucene rewrites a
    prefix query into its terms, when there are 1 to EXPANSIONS_MAX of them and the word has 3
    letters or more (every shorter word starting with it is then the word itself); else as a
    prefix lexeme (`'ec':*`): the answer is the same, only slower.

    Why: a prefix lexeme is a partial match for the GIN index, which reads the whole lists of
    every indexed word starting so into a bitmap and cannot skip; whole words' lists it
    intersects, skipping through the rarest. Measured at 100,000 ideas, the GIN index's part
    of "promenade cyclable fresque": 7.1 ms the last word a prefix lexeme, 0.8 ms its words
    instead; every word a prefix, the planner chose a sequential scan: 49 ms.

    A word starting indexed words is corrected only with `unheld`, and then only when no idea
    public now holds one of them (only ideas of a call in preparation do): asked when a search
    found nothing (`PostgresBackend.search`), since a search finding an idea found each of its
    words in it. Without that, such a word, kept as a prefix, would find nothing where the same
    typo is corrected once those ideas are gone, telling that an idea not public holds a word
    starting so. `before`, this function's answer without `unheld`, is kept for every other
    word: their corrections are not looked for twice."""
    result = []
    calls: list[int] | None = None  # read once, when a word needs correcting
    for position, word in enumerate(words):
        last = position == len(words) - 1
        # Words are letters and digits only (app.search.text.terms): no LIKE wildcard.
        if before is not None and before[position][1] == _quoted(word):
            result.append(before[position])  # a whole word: one an idea public now holds
            continue
        starting = _starting(session, word)[1]
        if unheld and starting and len(word) >= TYPO_MIN_LENGTH:
            calls = sql.public_calls(session) if calls is None else calls
            if not sql.held_publicly(session, INDEX, _HELD_WORD, _prefix_fragment(word, starting), calls):
                starting = []  # only ideas not public start so: a typo like any other
            elif before is not None:
                result.append(before[position])
                continue
        elif before is not None:
            result.append(before[position])
            continue
        if len(word) >= TYPO_MIN_LENGTH and not starting:
            near = sorted(w for w in one_edit_away(word) if VOCABULARY_MIN <= len(w) <= VOCABULARY_MAX) \
                if len(word) <= VOCABULARY_MAX + 1 else []
            candidates = list(session.execute(_ONE_EDIT, {"words": near, "word": word,
                                                          "limit": CORRECTIONS_TRIED}).scalars()) if near else []
            candidates += [w for w in session.execute(_CLOSEST, {"word": word, "least": TYPO_SIMILARITY,
                                                                 "limit": CORRECTIONS_TRIED}).scalars()
                           if w not in candidates]
            if candidates and calls is None:
                calls = sql.public_calls(session)
            for candidate in candidates[:CORRECTIONS_TRIED]:
                if sql.held_publicly(session, INDEX, _HELD_WORD, _quoted(str(candidate)), calls or []):
                    word, starting = _starting(session, str(candidate))
                    break
        # Whole only if an idea public now holds it: which words ideas of a call in preparation
        # hold must not change what a search finds.
        if not last and starting[:1] == [word] and calls is None:
            calls = sql.public_calls(session)
        whole = not last and starting[:1] == [word] and sql.held_publicly(
            session, INDEX, _HELD_WORD, _quoted(word), calls or [])
        fragment = _quoted(word) if whole else _prefix_fragment(word, starting)
        result.append((word, fragment))
    return result


def _starting(session: Session, word: str) -> tuple[str, list[str]]:
    """`word` and the indexed words it starts (`_STARTING`; none for a word too short to expand)."""
    if len(word) < PREFIX_EXPANDED_MIN:
        return word, []
    return word, [str(w) for w in session.execute(_STARTING, {"prefix": word + "%", "limit": EXPANSIONS_MAX + 1})
                  .scalars()]


def _prefix_fragment(word: str, starting: list[str], weight: str = "") -> str:
    """The tsquery part finding `word` as a prefix: the indexed words it starts (`starting`,
    from `_STARTING`) and itself, as whole words, when they are 1 to EXPANSIONS_MAX; else a
    prefix lexeme. With `weight` "A", in titles only."""
    if 0 < len(starting) <= EXPANSIONS_MAX:
        suffix = ":" + weight if weight else ""
        return "(" + " | ".join(_quoted(w) + suffix for w in dict.fromkeys([word, *starting])) + ")"
    return _quoted(word) + ":*" + weight


_UNACCENT_WORDS = sa.text("SELECT unaccent(w) FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS t(w, n) "
                          "ORDER BY n")


def unaccented_words(session: Session, words: list[str]) -> list[str]:
    """`words` (app.search.text.terms) as PostgreSQL's `unaccent` writes them, as indexing does
    ("straße" is "strasse", "cœur" "coeur", where Python's folding keeps "ß" and "œ")."""
    return [str(w) for w in session.execute(_UNACCENT_WORDS, {"words": words}).scalars()]


class PostgresBackend:
    name = "postgresql"
    corrects_typos = True

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        """Write (or rewrite) the ideas of `documents`, and their words into `idea_search_word`;
        the words an edit took out that no indexed idea holds any more leave it (`_unhold`)."""
        if documents:
            ids = [d.idea_id for d in documents]
            before = self._words_of(session, ids)
            session.execute(_UPSERT, [{"id": d.idea_id, "title": words_only(d.title), "body": words_only(d.body),
                                       "filters": [FILTER_MARK + t for t in filter_tokens(d.filters)]}
                                      for d in documents])
            session.execute(_WORDS, {"ids": ids, "shortest": VOCABULARY_MIN})
            self._unhold(session, sorted(set(before) - set(self._words_of(session, ids))))

    def _words_of(self, session: Session, idea_ids: list[int]) -> list[str]:
        """The vocabulary's words of the indexed ideas `idea_ids` as the index holds them."""
        return [str(w) for w in session.execute(_WORDS_OF, {"ids": idea_ids}).scalars()
                if len(w) >= VOCABULARY_MIN and not str(w).startswith(FILTER_MARK)]

    def _unhold(self, session: Session, words: list[str]) -> None:
        if words:
            session.execute(_UNHELD, {"words": words})

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        """Take the ideas out of the index, and their words no other indexed idea holds out of
        `idea_search_word` (`_UNHELD`)."""
        if idea_ids:
            words = self._words_of(session, idea_ids)
            session.execute(sa.delete(_table).where(_table.c.idea_id.in_(idea_ids)))
            self._unhold(session, words)

    def clear(self, session: Session) -> None:
        session.execute(sa.text("DELETE FROM idea_search"))
        session.execute(sa.text("DELETE FROM idea_search_word"))

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        words = terms(query.text)
        if not words:
            return backend.empty()
        lexemes = unaccented_words(session, words)
        searched = query_words(session, lexemes)
        results = self._run(session, query, words, lexemes, searched)
        if results.total == 0:
            # A word may start only words of ideas not public: corrected then (`query_words`).
            rechecked = query_words(session, lexemes, unheld=True, before=searched)
            if rechecked != searched:
                results = self._run(session, query, words, lexemes, rechecked)
        return results

    def _run(self, session: Session, query: SearchQuery, words: list[str], lexemes: list[str],
             searched: list[tuple[str, str]]) -> SearchResults:
        # Highlights fold as the words were typed (app.search.text), corrections as found.
        shown = [typed if typed_lexeme == word else word
                 for typed, typed_lexeme, (word, _fragment) in zip(words, lexemes, searched, strict=True)]
        return sql.run(session, query, shown, INDEX, {"match": " & ".join(f for _w, f in searched)})

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        """Ideas matching any word of `text` (no typo correction: one query per word is too
        much while someone types), by ts_rank, which counts the words shared and the title's
        weight A above the body's B."""
        words = backend.similar_terms(text)
        if not words:
            return []
        # Each word written as the indexed words it starts, as a search's last word
        # (`query_words`): prefix lexemes, read whole into bitmaps, cost the most of it.
        # ts_rank scores the prefixes themselves: its work grows with the query's items, which
        # the expansions multiply.
        lexemes = unaccented_words(session, words)
        starting = [_starting(session, word) for word in lexemes]
        any_word = " | ".join(_prefix_fragment(word, found) for word, found in starting)
        any_in_title = " | ".join(_prefix_fragment(word, found, "A") for word, found in starting)
        tsquery = sa.func.to_tsquery(CONFIG, any_word)
        in_title = sa.func.to_tsquery(CONFIG, any_in_title)
        rank = -sa.func.ts_rank(_table.c.document, sa.func.to_tsquery(
            CONFIG, " | ".join(_quoted(word) + ":*" for word in lexemes)))
        in_call = _table.c.document.op("@@")(sa.cast(filters_query(filter_tokens({"call": call_id})), TSQUERY))
        return sql.run_similar(session, call_id, INDEX, sa.and_(_table.c.document.op("@@")(tsquery), in_call),
                                   sa.and_(_table.c.document.op("@@")(in_title), in_call), rank, exclude_id, limit)
