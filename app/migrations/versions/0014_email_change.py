"""account: the address a change of e-mail moves to, on its single-use token

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 18:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('email_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('email_token', schema=None) as batch_op:
        batch_op.drop_column('new_email')
