"""Announcements: replies collected from the networks under the city's posts, and reports of them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 15:38:02.686398
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('network_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=False),
    sa.Column('parent_remote_id', sa.String(length=300), nullable=False),
    sa.Column('author_handle', sa.String(length=200), nullable=False),
    sa.Column('author_url', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('collected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('moderated_by', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel_account.id'], name=op.f('fk_network_reply_channel_id_channel_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delivery_id'], ['announcement_delivery.id'], name=op.f('fk_network_reply_delivery_id_announcement_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderated_by'], ['user_account.id'], name=op.f('fk_network_reply_moderated_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_reply')),
    sa.UniqueConstraint('channel_id', 'remote_id', name=op.f('uq_network_reply_channel_id_remote_id'))
    )
    with op.batch_alter_table('network_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_reply_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index('ix_network_reply_status_collected', ['status', 'collected_at'], unique=False)

    op.create_table('network_reply_report',
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reply_id'], ['network_reply.id'], name=op.f('fk_network_reply_report_reply_id_network_reply'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_network_reply_report_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reply_id', 'user_id', name=op.f('pk_network_reply_report'))
    )



def downgrade() -> None:

    op.drop_table('network_reply_report')
    with op.batch_alter_table('network_reply', schema=None) as batch_op:
        batch_op.drop_index('ix_network_reply_status_collected')
        batch_op.drop_index(batch_op.f('ix_network_reply_delivery_id'))

    op.drop_table('network_reply')

