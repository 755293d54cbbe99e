"""Announcements: the channels they are published to, and one delivery per announcement and channel

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:19:14.057197
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channel_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('secrets_sealed', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_note', sa.String(length=300), nullable=False),
    sa.Column('paused_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_account'))
    )
    op.create_table('announcement_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=False),
    sa.Column('remote_url', sa.String(length=500), nullable=False),
    sa.Column('remote_extra', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], name=op.f('fk_announcement_delivery_announcement_id_announcement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['channel_id'], ['channel_account.id'], name=op.f('fk_announcement_delivery_channel_id_channel_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_delivery')),
    sa.UniqueConstraint('announcement_id', 'channel_id', 'target', name=op.f('uq_announcement_delivery_announcement_id_channel_id_target')),
    sa.UniqueConstraint('key', name=op.f('uq_announcement_delivery_key'))
    )
    with op.batch_alter_table('announcement_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_delivery_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index('ix_announcement_delivery_status_created', ['status', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('announcement_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_announcement_delivery_status_created')
        batch_op.drop_index(batch_op.f('ix_announcement_delivery_channel_id'))

    op.drop_table('announcement_delivery')
    op.drop_table('channel_account')
