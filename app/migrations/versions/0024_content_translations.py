"""call, category, district: original language and translations; idea: its official answer's; idea, comment: the language written in

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 01:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("call", "category", "district")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("original_language", sa.String(length=2), nullable=False, server_default="fr"))
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("idea") as batch:
        batch.add_column(sa.Column("answer_language", sa.String(length=2), nullable=False, server_default="fr"))
        batch.add_column(sa.Column("answer_translations", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))
    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comment") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("idea") as batch:
        batch.drop_column("language")
        batch.drop_column("answer_translations")
        batch.drop_column("answer_language")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
            batch.drop_column("original_language")
