"""Migration 0040 refills PostgreSQL's `idea_search_word` with the index's own lexemes, which a
query's last word is expanded into (app.search.postgres.query_words): the ideas already indexed
are found by a prefix of a word Python folds otherwise than `unaccent` ("straße")."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app import migrate
from app.search.backend import SearchQuery
from app.search.postgres import PostgresBackend
from tests.factories import make_call, make_idea

REVISION = "0040"
BEFORE = "0039"


def test_the_words_table_becomes_the_index_lexemes(empty_database: str) -> None:
    if not empty_database.startswith("postgresql"):
        pytest.skip("SQLite's backend keeps its words table as it was: 0040 changes nothing there")
    migrate.upgrade(empty_database, BEFORE)
    engine = sa.create_engine(empty_database)
    with Session(engine) as session:  # an idea indexed as the backend did at BEFORE: words folded by Python
        idea = make_idea(session, make_call(session), title="Une Straße piétonne")
        session.execute(sa.text("INSERT INTO idea_search (idea_id, document, title) VALUES (:id, "
                                "to_tsvector('simple', unaccent('Une Straße piétonne')) || '#c1'::tsvector, "
                                "to_tsvector('simple', unaccent('Une Straße piétonne')))"), {"id": idea.id})
        session.execute(sa.text("INSERT INTO idea_search_word (word) VALUES ('straße'), ('pietonne'), ('gone')"))
        session.commit()
    engine.dispose()
    migrate.upgrade(empty_database, REVISION)
    engine = sa.create_engine(empty_database)
    with Session(engine) as session:
        words = set(session.execute(sa.text("SELECT word FROM idea_search_word")).scalars())
        assert words == {"strasse", "pietonne"}  # lexemes of 4 letters or more, no "#c1" token
        hits = PostgresBackend().search(session, SearchQuery(text="pietonne strass")).hits
        assert [h.idea.title for h in hits] == ["Une Straße piétonne"]
    engine.dispose()
