"""Models and migrations agree, and `upgrade head` works on the database under test."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models import metadata


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    # database_url was migrated with Alembic's `upgrade head` (tests/conftest.py).
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == [], f"models differ from migrations; run scripts/regen-initial-migration: {diff}"
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables
