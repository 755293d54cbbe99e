"""The search index's tables, which are not SQLModel models (an FTS5 virtual table and its
shadow tables on SQLite, a tsvector table on PostgreSQL): migration 0006 creates them, and the
comparison of models with migrations (Alembic's autogenerate, tests/core/test_migrations.py)
leaves them out through `include_name`."""

from typing import Any

TABLE = "idea_search"


def is_search_table(name: str | None) -> bool:
    """True for `idea_search` and the shadow tables FTS5 adds (`idea_search_data`, ...)."""
    return bool(name) and (name == TABLE or str(name).startswith(TABLE + "_"))


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's `include_name` hook: compare everything but the search index's tables."""
    return not (type_ == "table" and is_search_table(name))
