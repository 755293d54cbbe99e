"""The PostgreSQL backend: a table `idea_search` (idea_id, document tsvector) with a GIN index,
created by migration 0006. Documents use the `simple` configuration (no language stemming:
ideas are written in several languages) over `unaccent`ed text, the title weighted A and the
body B, ranked by ts_rank.

Queries are built from the words of app.search.text.terms, each a quoted prefix lexeme
(`'energ':*`) joined by `&`. `websearch_to_tsquery` reads what people type well but has no
prefix search, which the contract requires ("eco" finds "école"); since the words carry no
operator, `to_tsquery` over them is as safe."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Session

from app.search import backend
from app.search.backend import IdeaDocument, SearchQuery, SearchResults
from app.search.text import terms, words_only

TABLE = "idea_search"
CONFIG: sa.ColumnClause[Any] = sa.literal_column("'simple'::regconfig")

_table = sa.table(TABLE, sa.column("idea_id"), sa.column("document", TSVECTOR))

_UPSERT = sa.text("""
    INSERT INTO idea_search (idea_id, document)
    VALUES (:id, setweight(to_tsvector('simple', unaccent(:title)), 'A')
                 || setweight(to_tsvector('simple', unaccent(:body)), 'B'))
    ON CONFLICT (idea_id) DO UPDATE SET document = excluded.document
""")


def ts_query(words: list[str]) -> str:
    """A to_tsquery text finding every word as a prefix: `'energ':* & 'ecole':*`."""
    return " & ".join("'" + word.replace("'", "''") + "':*" for word in words)


class PostgresBackend:
    name = "postgresql"

    def index(self, session: Session, documents: list[IdeaDocument]) -> None:
        if documents:
            session.execute(_UPSERT, [{"id": d.idea_id, "title": words_only(d.title), "body": words_only(d.body)}
                                      for d in documents])

    def remove(self, session: Session, idea_ids: list[int]) -> None:
        if idea_ids:
            session.execute(sa.delete(_table).where(_table.c.idea_id.in_(idea_ids)))

    def clear(self, session: Session) -> None:
        session.execute(sa.text("DELETE FROM idea_search"))

    def search(self, session: Session, query: SearchQuery) -> SearchResults:
        words = terms(query.text)
        if not words:
            return backend.empty()
        tsquery = sa.func.to_tsquery(CONFIG, sa.func.unaccent(ts_query(words)))
        match = _table.c.document.op("@@")(tsquery)
        rank = -sa.func.ts_rank(_table.c.document, tsquery)  # lower first, as for bm25
        return backend.run(session, query, words, _table.c.idea_id, match, rank)
