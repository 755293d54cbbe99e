"""The SQLite backend: an FTS5 table `idea_search` (rowid = idea id; columns title, body, and
the filters' tokens since migration 0021), created by migration 0006 with the unicode61
tokenizer removing diacritics and prefix indexes of 2 and 3 characters, ranked by bm25 with
the title weighing more than the body (similar ideas; search ranks as app.search.sql.run
says).

A query word of 4 letters or more is a prefix too ("ecole" finds "écoles"), which FTS5 answers
by merging the whole lists of every word starting so: 7 ms for a word in 40,000 ideas, even
when 1,000 of them are wanted. So such a word is first replaced by the words it starts among
those indexed (`idea_search_word`, kept by indexing, migration 0012), as Lucene rewrites a
prefix query into its terms: `("ecole" OR "ecoles")`, whose lists FTS5 reads lazily, newest
first, only as far as needed (under 1 ms). A word starting none of them, or too many
(EXPANSIONS_MAX), stays a prefix query: the answer is the same, only slower.

A query word starting no indexed word is a typo, corrected as on PostgreSQL but by edit
distance rather than trigram similarity: replaced by the indexed word one edit away
(app.search.typos) that the most ideas hold (`corrected`). Those words are the ones FTS5 holds
now (`idea_search_vocab`, migration 0038: its own vocabulary, with each word's number of
ideas): the words of an idea hidden or removed from the index are never proposed."""

import json
import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.idea.models import Idea
from app.search import backend, sql
from app.search.backend import SIMILAR_LIMIT, IdeaDocument, SearchQuery, SearchResults, filter_tokens
from app.search.text import VOCABULARY_MAX, VOCABULARY_MIN, prefix_words, terms, vocabulary
from app.search.typos import CORRECTIONS_TRIED, one_edit_away, ordered_candidates

TABLE = "idea_search"
# The FTS5 definition, as migration 0021 writes it (0006's, with the filters' tokens): accents
# removed ("école" is indexed as "ecole"), prefixes of 2 and 3 letters indexed so that "en" or
# "eco" stay fast; `filters` holds the idea's call, theme and district as tokens
# (app.search.backend.filter_tokens), which only a query naming that column finds.
CREATE = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, body, filters, "
          "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")
TITLE_WEIGHT = 10.0  # bm25 column weights: a word in the title counts ten times one in the body
BODY_WEIGHT = 1.0
EXPANSIONS_MAX = 64  # indexed words a query word may stand for; beyond, FTS5's prefix query

# The titles alone (migration 0019, with the filters' tokens since 0021): a title pass over
# `TABLE` under a column filter reads the bodies' lists too, ten times longer.
TITLE_TABLE = "idea_search_title"
WORDS = "{title body} : "  # a query's words are looked for there, never among the filters' tokens
TITLE_WORDS = "{title} : "

_table = sa.table(TABLE, sa.column("rowid"))
_titles = sa.table(TITLE_TABLE, sa.column("rowid"))
_fts: sa.ColumnClause[Any] = sa.literal_column(TABLE)
_title_fts: sa.ColumnClause[Any] = sa.literal_column(TITLE_TABLE)
# What app.search.sql.run asks the index, its words as parameters: "match" (every word),
# "title_match" (the same in the table of titles).
INDEX = sql.IndexQuery("sqlite", _table.c.rowid, _fts.op("MATCH")(sa.bindparam("match", type_=sa.String)),
                           _title_fts.op("MATCH")(sa.bindparam("title_match", type_=sa.String)),
                           newest_first=True, title_id=_titles.c.rowid,  # by rowid, descending
                           filter_match=lambda name, titles: (_title_fts if titles else _fts).op("MATCH")(
                               sa.bindparam(name, type_=sa.String)),
                           filter_value=lambda tokens: filters_query(tokens))
_WORDS = sa.text("INSERT OR IGNORE INTO idea_search_word (word) VALUES (:word)")
_STARTING = sa.text("SELECT word FROM idea_search_word WHERE word >= :low AND word < :high ORDER BY word LIMIT :limit")

# Typos. A query word shorter than this is never corrected (as on PostgreSQL): a short word has
# too many neighbours one letter away ("parc", "pare", "part") to tell a typo from another word.
TYPO_MIN_LENGTH = VOCABULARY_MIN
# `idea_search_vocab` (migration 0038): fts5vocab(idea_search, row), its columns term, doc (ideas
# holding it), cnt.
# Whether a word starts an indexed word: `idea_search_word` first (a B-tree, the same lookup as
# `expanded_query`'s), then FTS5's vocabulary, which also holds the words outside
# `idea_search_word`'s lengths (app.search.text.vocabulary); only a word found in neither is
# corrected.
_KNOWN_WORD = sa.text("SELECT 1 FROM idea_search_word WHERE word >= :low AND word < :high LIMIT 1")
_KNOWN_TERM = sa.text("SELECT 1 FROM idea_search_vocab WHERE term >= :low AND term < :high LIMIT 1")
# The strings one edit away that are words: looked up in `idea_search_word` (a few hundred
# B-tree lookups, 0.2 ms), then only those found in FTS5's vocabulary, whose lookup reads the
# word's whole list of ideas to count them, and which is always exactly the index's words
# (`remove` keeps `idea_search_word` so too, but a word may be kept at a length the index drops,
# or written by an older version). One statement each whatever the number of strings (a JSON
# array, read by json_each).
_EXISTING = sa.text("SELECT word FROM idea_search_word WHERE word IN (SELECT value FROM json_each(:words))")
_HELD = sa.text("SELECT term, doc FROM idea_search_vocab WHERE term IN (SELECT value FROM json_each(:words))")
# Removing an idea: its words (FTS5 keeps the text), and whether another indexed idea holds one,
# which FTS5 answers from the first entry of the word's list (under 0.1 ms).
_CONTENT = sa.text("SELECT title, body FROM idea_search WHERE rowid = :id")
_HOLDS = sa.text("SELECT 1 FROM idea_search WHERE idea_search MATCH :match LIMIT 1")
_UNHELD = sa.text("DELETE FROM idea_search_word WHERE word = :word")
_FILTER_TOKEN = re.compile(r"[ctd][0-9]+")  # a token of app.search.backend.filter_tokens ("c3"): no word


def _starts_a_word(session: Session, word: str) -> bool:
    """Whether `word` starts a word of the index, as FTS5's prefix query of it finds one."""
    bounds = {"low": word, "high": word[:-1] + chr(ord(word[-1]) + 1)}
    return (session.execute(_KNOWN_WORD, bounds).first() is not None
            or session.execute(_KNOWN_TERM, bounds).first() is not None)


def corrected(session: Session, words: list[str], unheld: bool = False, before: list[str] | None = None) -> list[str]:
    """`words` (app.search.text.terms: folded, without stop words) with each one of at least
    TYPO_MIN_LENGTH letters that starts no indexed word replaced by the indexed word one edit
    away (app.search.typos.one_edit_away) held by the most ideas now, then the first
    alphabetically (app.search.typos.closest), among those an idea public now holds
    (`_public_correction`); left as it is when there is none. A word that
    starts an indexed word is never changed. Cost, measured on scripts/bench_search.py's
    100,000 ideas: 0.05 ms of CPU for a known word, 0.7 ms for a word corrected to nothing,
    1.2 to 1.5 ms for one corrected to a word of 20,000 ideas (counting them is half of it).

    With `unheld`, a word starting only words no idea public now holds (only ideas of a call
    in preparation do) is corrected too: asked when a search found nothing
    (`SqliteBackend.search`), since a search finding an idea found each of its words in it.
    Kept as a prefix, such a word would find nothing where the same typo is corrected once
    those ideas are gone, telling that an idea not public holds a word starting so. `before`,
    this function's answer without `unheld`, is kept for every other word: their corrections
    are not looked for twice."""
    result = []
    calls: list[int] | None = None  # read once, when a word needs correcting
    for position, word in enumerate(words):
        # A word of more than VOCABULARY_MAX + 1 letters is more than one edit from any word
        # kept (and would be thousands of strings to look up).
        if not TYPO_MIN_LENGTH <= len(word) <= VOCABULARY_MAX + 1:
            result.append(word)
            continue
        known = _starts_a_word(session, word)
        if known and unheld and not sql.held_publicly(
                session, INDEX, _HELD_WORD, WORDS + "(" + expanded_query(session, [word]) + ")",
                calls if calls is not None else (calls := sql.public_calls(session))):
            known = False  # only ideas not public start so: a typo like any other
        elif before is not None:
            result.append(before[position])
            continue
        if not known:
            near = sorted(w for w in one_edit_away(word)
                          if VOCABULARY_MIN <= len(w) <= VOCABULARY_MAX and not _FILTER_TOKEN.fullmatch(w))
            existing = list(session.execute(_EXISTING, {"words": json.dumps(near)}).scalars())
            if existing:
                held = session.execute(_HELD, {"words": json.dumps(existing)}).all()
                if calls is None:
                    calls = sql.public_calls(session)
                word = _public_correction(session, {str(term): int(doc) for term, doc in held}, calls) or word
        result.append(word)
    return result


_HELD_WORD = _fts.op("MATCH")(sa.bindparam("held", type_=sa.String))


def _public_correction(session: Session, frequencies: dict[str, int], calls: list[int]) -> str | None:
    """The best of the candidate corrections `frequencies` (words to their number of indexed
    ideas) in app.search.typos.closest's order that an idea public now holds
    (app.search.sql.held_publicly): FTS5 also holds the ideas of calls in preparation, whose
    words must never be proposed. At most CORRECTIONS_TRIED are asked; None if none is held."""
    for word in ordered_candidates(frequencies)[:CORRECTIONS_TRIED]:
        if sql.held_publicly(session, INDEX, _HELD_WORD, WORDS + _quoted(word), calls):
            return word
    return None


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def fts_query(words: list[str], joiner: str = " ") -> str:
    """An FTS5 query that finds every word as a prefix: each one quoted (`"energ"*`), so nothing
    the user typed is read as an FTS5 operator. `words` come from app.search.text.terms; joined
    by spaces every word must match, by " OR " any of them."""
    return joiner.join(_quoted(word) + "*" for word in words)


def filters_query(tokens: list[str]) -> str:
    """The FTS5 query finding every filter token of `tokens` (app.search.backend.filter_tokens)
    in the `filters` column: `{filters} : ("c3" "t45")`. FTS5 takes a second MATCH on a table as
    an AND with the first: the words' lists and the tokens' are intersected by the index."""
    return "{filters} : (" + " ".join(_quoted(t) for t in tokens) + ")"


def expanded_query(session: Session, words: list[str], joiner: str = " AND ", last_prefix: bool = False) -> str:
    """The FTS5 query finding every word of `words` as a prefix, as `fts_query`, each word of
    the vocabulary's length (app.search.text.vocabulary) written as the OR of the indexed
    words it starts, when there are 1 to EXPANSIONS_MAX of them; joined by " OR ", any word.
    With `last_prefix`, only the last word is a prefix, as on PostgreSQL and Meilisearch
    (app.search.postgres.query_words): an earlier one the index holds is a whole word."""
    parts = []
    calls: list[int] | None = None  # read once, when an earlier word may be a whole word
    for position, word in enumerate(words):
        found: list[str] = []
        if vocabulary(word):
            high = word[:-1] + chr(ord(word[-1]) + 1)  # the first string after every one starting with `word`
            found = list(session.execute(_STARTING, {"low": word, "high": high, "limit": EXPANSIONS_MAX + 1}).scalars())
        if last_prefix and position < len(words) - 1 and found[:1] == [word] and sql.held_publicly(
                session, INDEX, _HELD_WORD, WORDS + _quoted(word),
                calls if calls is not None else (calls := sql.public_calls(session))):
            parts.append(_quoted(word))  # whole only if an idea public now holds it, as on PostgreSQL
        elif 0 < len(found) <= EXPANSIONS_MAX:
            parts.append("(" + " OR ".join(_quoted(w) for w in found) + ")")
        else:
            parts.append(_quoted(word) + "*")
    return joiner.join(parts)


class SqliteBackend:
    name = "sqlite"
    corrects_typos = True  # `corrected`: FTS5 has no fuzzy matching (spellfix1 is not part of SQLite builds)

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        """Replace the rows of `documents` (an FTS5 table has no upsert: delete, then insert)."""
        if not documents:
            return
        self.remove(session, [d.idea_id for d in documents])
        words = sorted({w for d in documents for w in prefix_words(d.title + " " + d.body)})
        if words:
            session.execute(_WORDS, [{"word": w} for w in words])
        rows = [{"id": d.idea_id, "title": d.title, "body": d.body, "filters": " ".join(filter_tokens(d.filters))}
                for d in documents]
        session.execute(sa.text("INSERT INTO idea_search (rowid, title, body, filters) "
                                "VALUES (:id, :title, :body, :filters)"), rows)
        session.execute(sa.text("INSERT INTO idea_search_title (rowid, title, filters) "
                                "VALUES (:id, :title, :filters)"), rows)

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        """Take the ideas out of the index, and their words no other indexed idea holds out of
        `idea_search_word` (`index` removes an idea before writing it again: the words an edit
        took out go too), so that a query word they start is no longer taken for a known word."""
        words: set[str] = set()
        for idea_id in idea_ids:
            row = session.execute(_CONTENT, {"id": idea_id}).first()
            if row is not None:
                words |= prefix_words(f"{row[0]} {row[1]}")
            session.execute(sa.text("DELETE FROM idea_search WHERE rowid = :id"), {"id": idea_id})
            session.execute(sa.text("DELETE FROM idea_search_title WHERE rowid = :id"), {"id": idea_id})
        unheld = [w for w in sorted(words) if session.execute(_HOLDS, {"match": WORDS + _quoted(w)}).first() is None]
        if unheld:
            session.execute(_UNHELD, [{"word": w} for w in unheld])

    def clear(self, session: Session) -> None:
        session.execute(sa.text("DELETE FROM idea_search"))
        session.execute(sa.text("DELETE FROM idea_search_title"))
        session.execute(sa.text("DELETE FROM idea_search_word"))

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        words = terms(query.text)
        if not words:
            return backend.empty()
        searched = corrected(session, words)
        results = self._run(session, query, searched)
        if results.total == 0:
            # A word may start only words of ideas not public: corrected then (`corrected`).
            rechecked = corrected(session, words, unheld=True, before=searched)
            if rechecked != searched:
                results = self._run(session, query, rechecked)
        return results

    def _run(self, session: Session, query: SearchQuery, words: list[str]) -> SearchResults:
        expression = "(" + expanded_query(session, words, last_prefix=True) + ")"
        return sql.run(session, query, words, INDEX, {"match": WORDS + expression,
                                                          "title_match": TITLE_WORDS + expression})

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        """Ideas matching any word of `text`, by bm25: more shared words, rarer ones and words
        in the title come first (among the candidates of app.search.sql.run_similar; one
        found by its title only is scored by its title). No typo correction, as on PostgreSQL:
        the words of a whole text, asked at every pause in typing, are too many to correct."""
        words = backend.similar_terms(text)
        if not words:
            return []
        expression = "(" + expanded_query(session, words, " OR ") + ")"
        in_call = filters_query(filter_tokens({"call": call_id}))
        match = sa.and_(_fts.op("MATCH")(WORDS + expression), _fts.op("MATCH")(in_call))
        title_match = sa.and_(_fts.op("MATCH")(TITLE_WORDS + expression), _fts.op("MATCH")(in_call))
        rank = sa.func.bm25(_fts, TITLE_WEIGHT, BODY_WEIGHT, 0.0)  # the call's token scores nothing
        return sql.run_similar(session, call_id, INDEX, match, title_match, rank, exclude_id, limit)
