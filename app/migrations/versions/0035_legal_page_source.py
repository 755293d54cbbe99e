"""legal pages: a translation's fingerprint of the original it was made from

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-30 08:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Translations saved before have no fingerprint: shown as out of date, for someone to check.
    with op.batch_alter_table("legal_page") as batch:
        batch.add_column(sa.Column("source_fingerprint", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("legal_page") as batch:
        batch.drop_column("source_fingerprint")
