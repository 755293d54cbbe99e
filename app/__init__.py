"""Réinventons: a participation platform for cities."""

from sqlmodel import SQLModel

# Every constraint and index of every table gets a predictable name, the same on SQLite and
# PostgreSQL, so that a migration can name what it alters or drops (SQLite's batch mode rebuilds
# a table and must find its constraints by name). A constraint takes its name when its table is
# defined, and tables are defined across the domain packages, so the convention is set here, in
# the first module Python runs for any `app.*` import. Names stay under PostgreSQL's 63 bytes
# (tests/core/test_migrations.py).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
