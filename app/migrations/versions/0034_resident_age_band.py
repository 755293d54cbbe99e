"""resident verification: the age band read from the provider's birthdate claim

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-30 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Unknown for verifications made before: the claims were not kept, so nothing to read again.
    with op.batch_alter_table("resident_verification") as batch:
        batch.add_column(sa.Column("age_band", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resident_verification") as batch:
        batch.drop_column("age_band")
