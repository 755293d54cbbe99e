"""PostgreSQL: the sequence page_generation, bumped after every write that pages show (app.pagecache)

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30 04:50:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite keeps the generation in a file next to the database (app.pagecache.generation).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS page_generation")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS page_generation")
