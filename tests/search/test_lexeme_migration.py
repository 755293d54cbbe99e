"""Migration 0040 refills PostgreSQL's `idea_search_word` with the index's own lexemes, which a
query's last word is expanded into (app.search.postgres.query_words): the ideas already indexed
are found by a prefix of a word Python folds otherwise than `unaccent` ("straße"), and of a word
longer than 40 letters, which neither database's words table kept before (SQLite's gets them
from FTS5's vocabulary)."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app import migrate
from app.search.backend import IdeaDocument, SearchQuery
from app.search.postgres import PostgresBackend
from app.search.sqlite_fts import SqliteBackend
from tests.factories import insert_old_idea, make_call

REVISION = "0040"
BEFORE = "0039"
LONG = "donaudampfschifffahrtsgesellschaftskapitaenswitwe"  # 49 letters


@contextmanager
def _migrated_to(url: str, revision: str) -> Iterator[Session]:
    """A session on the database at `url` once migrated up to `revision`."""
    migrate.upgrade(url, revision)
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_the_words_table_becomes_the_index_lexemes(empty_database: str) -> None:
    if not empty_database.startswith("postgresql"):
        pytest.skip("PostgreSQL's words table (SQLite's: the next test)")
    with _migrated_to(empty_database, BEFORE) as session:  # indexed as the backend did then: words folded by Python
        idea_id = insert_old_idea(session, make_call(session), title="Une Straße piétonne")
        session.execute(sa.text("INSERT INTO idea_search (idea_id, document, title) VALUES (:id, "
                                "to_tsvector('simple', unaccent('Une Straße piétonne ' || :long)) || '#c1'::tsvector, "
                                "to_tsvector('simple', unaccent('Une Straße piétonne')))"),
                        {"id": idea_id, "long": LONG})
        session.execute(sa.text("INSERT INTO idea_search_word (word) VALUES ('straße'), ('pietonne'), ('gone')"))
        session.commit()
    with _migrated_to(empty_database, REVISION) as session:
        words = set(session.execute(sa.text("SELECT word FROM idea_search_word")).scalars())
        assert words == {"strasse", "pietonne", LONG}  # lexemes of 4 letters or more, no "#c1" token
    # The search reads today's idea model: the later revisions' columns first (none touches the words).
    with _migrated_to(empty_database, "head") as session:
        hits = PostgresBackend().search(session, SearchQuery(text="pietonne strass")).hits
        assert [h.idea.title for h in hits] == ["Une Straße piétonne"]


def test_sqlite_s_words_table_gains_the_long_words_of_the_index(empty_database: str) -> None:
    if empty_database.startswith("postgresql"):
        pytest.skip("SQLite's words table (PostgreSQL's: the test above)")
    with _migrated_to(empty_database, BEFORE) as session:
        call = make_call(session)
        title = f"Une {LONG.capitalize()} sur le fleuve"
        idea_id = insert_old_idea(session, call, title=title)
        assert call.id is not None
        SqliteBackend().index(session, [IdeaDocument(idea_id, title, "", {"call": call.id})])
        # As the backend wrote it before: words of 4 to 40 letters only.
        session.execute(sa.text("DELETE FROM idea_search_word WHERE length(word) > 40"))
        session.commit()
    with _migrated_to(empty_database, REVISION) as session:
        assert session.execute(sa.text("SELECT count(*) FROM idea_search_word WHERE word = :w"),
                               {"w": LONG}).scalar() == 1
