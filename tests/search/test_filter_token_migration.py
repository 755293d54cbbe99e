"""Migration 0021 writes the call, theme and district of the ideas already indexed as tokens of
the full-text index, so that a filtered search finds them without a reindex; downgrading takes
the tokens out and keeps the words."""

from typing import Any

import sqlalchemy as sa
from alembic import command

from app import migrate
from tests.notify.test_preference_migration import _filler

REVISION = "0021"
BEFORE = "0020"


def _insert(conn: sa.Connection, table: sa.Table, n: int, **values: Any) -> int:
    """A row of `table` as it was at BEFORE, its required columns filled, `values` over them."""
    row = {c.name: _filler(c, n) for c in table.columns
           if not c.nullable and not c.primary_key and c.server_default is None}
    result = conn.execute(table.insert().values(**{**row, **values}))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _found(conn: sa.Connection, postgres: bool, words: str, tokens: list[str]) -> list[int]:
    """The ideas of the index holding `words` and every filter token of `tokens`, as the
    backends ask them (app.search.sqlite_fts.filters_query, app.search.postgres.filters_query)."""
    if postgres:
        query = " & ".join([f"'{words}'", *(f"'#{t}'" for t in tokens)])
        return list(conn.execute(sa.text("SELECT idea_id FROM idea_search WHERE document @@ CAST(:q AS tsquery) "
                                         "AND title @@ CAST(:q AS tsquery)"), {"q": query}).scalars())
    tokens_query = "{filters} : (" + " ".join(f'"{t}"' for t in tokens) + ")"
    found = set(conn.execute(sa.text("SELECT rowid FROM idea_search WHERE idea_search MATCH :w "
                                     "AND idea_search MATCH :t"), {"w": words, "t": tokens_query}).scalars())
    titled = set(conn.execute(sa.text("SELECT rowid FROM idea_search_title WHERE idea_search_title MATCH :w "
                                      "AND idea_search_title MATCH :t"), {"w": words, "t": tokens_query}).scalars())
    assert found == titled
    return sorted(found)


def test_indexed_ideas_get_their_filter_tokens_and_lose_them_on_downgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database, BEFORE)
    engine = sa.create_engine(empty_database)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        meta = sa.MetaData()
        calls, categories, ideas = (sa.Table(name, meta, autoload_with=conn) for name in ("call", "category", "idea"))
        call = _insert(conn, calls, 1, slug="appel")
        other = _insert(conn, calls, 2, slug="autre")
        theme = _insert(conn, categories, 1, call_id=call, slug="parcs")
        themed = _insert(conn, ideas, 1, call_id=call, category_id=theme, title="Un parc", status="published")
        plain = _insert(conn, ideas, 2, call_id=other, title="Un parc", status="published")
        for idea in (themed, plain):
            if postgres:
                conn.execute(sa.text("INSERT INTO idea_search (idea_id, document, title) VALUES "
                                     "(:id, to_tsvector('simple', 'un parc'), to_tsvector('simple', 'un parc'))"),
                             {"id": idea})
            else:
                conn.execute(sa.text("INSERT INTO idea_search (rowid, title, body) VALUES (:id, 'Un parc', '')"),
                             {"id": idea})
                conn.execute(sa.text("INSERT INTO idea_search_title (rowid, title) VALUES (:id, 'Un parc')"),
                             {"id": idea})
    engine.dispose()

    migrate.upgrade(empty_database, REVISION)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        assert _found(conn, postgres, "parc", [f"c{call}"]) == [themed]
        assert _found(conn, postgres, "parc", [f"c{call}", f"t{theme}"]) == [themed]
        assert _found(conn, postgres, "parc", [f"c{other}"]) == [plain]
        assert _found(conn, postgres, "parc", [f"t{theme}", f"c{other}"]) == []
    engine.dispose()

    command.downgrade(migrate.alembic_config(empty_database), BEFORE)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        if postgres:
            words = conn.execute(sa.text("SELECT idea_id, document::text, title::text FROM idea_search "
                                         "ORDER BY idea_id")).all()
            assert [tuple(r) for r in words] == [(themed, "'parc':2 'un':1", "'parc':2 'un':1"),
                                                 (plain, "'parc':2 'un':1", "'parc':2 'un':1")]
        else:
            columns = [r[1] for r in conn.execute(sa.text("PRAGMA table_info(idea_search)"))]
            assert columns == ["title", "body"]
            found = conn.execute(sa.text("SELECT rowid FROM idea_search WHERE idea_search MATCH 'parc' "
                                         "ORDER BY rowid")).scalars().all()
            titled = conn.execute(sa.text("SELECT rowid FROM idea_search_title WHERE idea_search_title MATCH 'parc' "
                                          "ORDER BY rowid")).scalars().all()
            assert found == titled == sorted([themed, plain])
    engine.dispose()
