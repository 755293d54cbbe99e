"""assistant_entry: translations of an entry written in its original language (`language`)

Revision ID: 0036
Revises: 0035
Create Date: 2026-11-30 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Entries written before are each their own original (their `language`), with no translation.
    with op.batch_alter_table("assistant_entry") as batch:
        batch.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("assistant_entry") as batch:
        batch.drop_column("translations")
