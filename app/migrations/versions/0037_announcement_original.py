"""announcements: the original language and each translation's fingerprint of its original

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-30 09:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Announcements so far were drafted in French first; their translations' origin is unknown
    # (shown as out of date on a draft still being written, for a moderator to check).
    with op.batch_alter_table("announcement") as batch:
        batch.add_column(sa.Column("original_language", sa.String(length=2), nullable=False, server_default="fr"))
        batch.add_column(sa.Column("translation_sources", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("announcement") as batch:
        batch.drop_column("translation_sources")
        batch.drop_column("original_language")
