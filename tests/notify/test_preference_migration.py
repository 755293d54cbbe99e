"""The migration to per-kind e-mail delivery keeps each person's choice: e-mails that were on
become immediate, those switched off become none (and back again on downgrade)."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from app import migrate

REVISION = "0002"  # notifications: e-mails at once, in a daily or weekly digest, or none


def _filler(column: sa.Column[Any], n: int) -> object:
    """A value for a required column of a table as it was at an older revision."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    length = getattr(kind, "length", None)
    return f"{column.name}{n}"[:length] if length else f"{column.name}{n}"


def _insert_user(conn: sa.Connection, table: sa.Table, n: int) -> int:
    values = {c.name: _filler(c, n) for c in table.columns
              if not c.nullable and not c.primary_key and c.server_default is None}
    values["email"] = f"person{n}@example.org"
    result = conn.execute(table.insert().values(**values))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def test_boolean_email_preferences_become_immediate_or_none(empty_database: str) -> None:
    config = migrate.alembic_config(empty_database)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    migrate.upgrade(empty_database, before)

    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        meta = sa.MetaData()
        users = sa.Table("user_account", meta, autoload_with=conn)
        prefs = sa.Table("notification_preference", meta, autoload_with=conn)
        on, off = _insert_user(conn, users, 1), _insert_user(conn, users, 2)
        conn.execute(prefs.insert(), [
            {"user_id": on, "kind": "comment", "email": True},
            {"user_id": off, "kind": "comment", "email": False},
            {"user_id": off, "kind": "status", "email": True},
        ])
    engine.dispose()

    migrate.upgrade(empty_database)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_id, kind, delivery FROM notification_preference")).all()
    engine.dispose()
    assert sorted(tuple(r) for r in rows) == [(on, "comment", "immediate"), (off, "comment", "none"),
                                              (off, "status", "immediate")]

    command.downgrade(config, before)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_id, kind, email FROM notification_preference")).all()
    engine.dispose()
    assert sorted((r[0], r[1], bool(r[2])) for r in rows) == [(on, "comment", True), (off, "comment", False),
                                                            (off, "status", True)]
