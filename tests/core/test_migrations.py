"""Models and migrations agree, `upgrade head` works on the database under test, and every
constraint and index has a name a later migration can refer to."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models import metadata
from app.search.schema import include_name

POSTGRES_MAX_IDENTIFIER = 63


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    # database_url was migrated with Alembic's `upgrade head` (tests/conftest.py).
    engine = create_engine(database_url)
    with engine.connect() as conn:
        # The search index's tables are no models (an FTS5 table, a tsvector table): left out by
        # the same hook Alembic's autogenerate uses (app/migrations/env.py).
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == [], (
        "models differ from migrations; add a revision (`alembic revision --autogenerate -m ...`, "
        f"then review it, see CONTRIBUTING.md): {diff}"
    )
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_every_constraint_of_the_migrated_database_has_a_name(database_url: str) -> None:
    """Foreign keys, unique constraints and indexes are named by the convention in app/__init__.py:
    without names, a later migration cannot drop or alter them (SQLite rebuilds tables by name)."""
    engine = create_engine(database_url)
    unnamed: list[str] = []
    foreign_keys = 0
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in metadata.sorted_tables:
            for fk in inspector.get_foreign_keys(table.name):
                foreign_keys += 1
                if not fk.get("name"):
                    unnamed.append(f"{table.name}: foreign key {fk['constrained_columns']}")
            for unique in inspector.get_unique_constraints(table.name):
                if not unique.get("name"):
                    unnamed.append(f"{table.name}: unique {unique['column_names']}")
    engine.dispose()
    assert foreign_keys > 30
    assert not unnamed, "\n".join(unnamed)


def test_constraint_names_follow_the_convention_and_fit_postgresql() -> None:
    prefixes = {"ForeignKeyConstraint": "fk_", "UniqueConstraint": "uq_", "PrimaryKeyConstraint": "pk_",
                "CheckConstraint": "ck_"}
    wrong: list[str] = []
    for table in metadata.sorted_tables:
        named = [(type(c).__name__, c.name) for c in table.constraints]
        named += [("Index", index.name) for index in table.indexes]
        for kind, name in named:
            expected = prefixes.get(kind, "ix_")
            if not isinstance(name, str) or not name.startswith(expected) or len(name) > POSTGRES_MAX_IDENTIFIER:
                wrong.append(f"{table.name}: {kind} {name!r}")
    assert not wrong, "\n".join(wrong)
