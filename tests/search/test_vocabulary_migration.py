"""Migration 0038 gives SQLite's backend FTS5's vocabulary (`idea_search_vocab`): the ideas
already indexed have their typos corrected without a reindex; downgrading takes it away and
keeps the index."""

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from app import migrate
from app.search import sqlite_fts
from tests.factories import insert_old_idea, make_call

REVISION = "0038"
BEFORE = "0037"


def test_the_ideas_already_indexed_get_their_typos_corrected(empty_database: str) -> None:
    if not empty_database.startswith("sqlite"):
        pytest.skip("PostgreSQL corrects typos with pg_trgm since 0006: 0038 changes nothing there")
    migrate.upgrade(empty_database, BEFORE)
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:  # an idea indexed as the backend did at BEFORE
        conn.execute(sa.text("INSERT INTO idea_search (rowid, title, body, filters) "
                             "VALUES (7, 'Une cour verte pour chaque école', 'Moins de béton.', 'c1')"))
        conn.execute(sa.text("INSERT INTO idea_search_word (word) VALUES ('cour'), ('verte'), ('pour'), "
                             "('chaque'), ('ecole'), ('moins'), ('beton')"))
    engine.dispose()

    migrate.upgrade(empty_database, REVISION)
    engine = sa.create_engine(empty_database)
    with Session(engine) as session:
        # The indexed idea itself, public: a correction is only a word an idea public now holds.
        insert_old_idea(session, make_call(session), title="Une cour verte pour chaque école", body="Moins de béton.",
                        idea_id=7)
        session.commit()
        found = sqlite_fts.corrected(session, ["ecolle", "betton", "verte", "xylophone"])
        assert found == ["ecole", "beton", "verte", "xylophone"]
    engine.dispose()

    command.downgrade(migrate.alembic_config(empty_database), BEFORE)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        tables = set(conn.execute(sa.text("SELECT name FROM sqlite_master")).scalars())
        assert "idea_search_vocab" not in tables and "idea_search" in tables
        found = conn.execute(sa.text("SELECT rowid FROM idea_search WHERE idea_search MATCH 'ecole'")).scalars()
        assert found.all() == [7]
    engine.dispose()
