"""The SQLite backend: an FTS5 table `idea_search` (rowid = idea id; columns title, body),
created by migration 0006 with the unicode61 tokenizer removing diacritics and prefix
indexes of 2 and 3 characters, ranked by bm25 with the title weighing more than the body."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.idea.models import Idea
from app.search import backend
from app.search.backend import SIMILAR_LIMIT, IdeaDocument, SearchQuery, SearchResults
from app.search.text import terms

TABLE = "idea_search"
# The FTS5 definition, as migration 0006 wrote it: accents removed ("école" is indexed as
# "ecole"), prefixes of 2 and 3 letters indexed so that "en" or "eco" stay fast.
CREATE = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, body, "
          "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")
TITLE_WEIGHT = 10.0  # bm25 column weights: a word in the title counts ten times one in the body
BODY_WEIGHT = 1.0

_table = sa.table(TABLE, sa.column("rowid"))


def fts_query(words: list[str], joiner: str = " ") -> str:
    """An FTS5 query that finds every word as a prefix: each one quoted (`"energ"*`), so nothing
    the user typed is read as an FTS5 operator. `words` come from app.search.text.terms; joined
    by spaces every word must match, by " OR " any of them."""
    return joiner.join('"' + word.replace('"', '""') + '"*' for word in words)


class SqliteBackend:
    name = "sqlite"
    corrects_typos = False  # FTS5 has no fuzzy matching (spellfix1 is not part of SQLite builds)

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        """Replace the rows of `documents` (an FTS5 table has no upsert: delete, then insert)."""
        if not documents:
            return
        self.remove(session, [d.idea_id for d in documents])
        session.execute(sa.text("INSERT INTO idea_search (rowid, title, body) VALUES (:id, :title, :body)"),
                        [{"id": d.idea_id, "title": d.title, "body": d.body} for d in documents])

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        for idea_id in idea_ids:
            session.execute(sa.text("DELETE FROM idea_search WHERE rowid = :id"), {"id": idea_id})

    def clear(self, session: Session) -> None:
        session.execute(sa.text("DELETE FROM idea_search"))

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        words = terms(query.text)
        if not words:
            return backend.empty()
        fts: sa.ColumnClause[Any] = sa.literal_column(TABLE)
        match = fts.op("MATCH")(fts_query(words))
        rank = sa.func.bm25(fts, TITLE_WEIGHT, BODY_WEIGHT)  # lower is better
        return backend.run(session, query, words, _table.c.rowid, match, rank)

    def similar(self, session: Session, call_id: int, text: str, exclude_id: int | None = None,
                limit: int = SIMILAR_LIMIT) -> list[Idea]:
        """Ideas matching any word of `text`, by bm25: more shared words, rarer ones and words
        in the title come first."""
        words = backend.similar_terms(text)
        if not words:
            return []
        fts: sa.ColumnClause[Any] = sa.literal_column(TABLE)
        match = fts.op("MATCH")(fts_query(words, " OR "))
        rank = sa.func.bm25(fts, TITLE_WEIGHT, BODY_WEIGHT)
        return backend.run_similar(session, call_id, _table.c.rowid, match, rank, exclude_id, limit)
