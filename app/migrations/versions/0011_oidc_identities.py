"""account: OpenID Connect identities and sign-ins under way

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 16:23:10.651627
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oidc_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('provider_key', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('next_path', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_oidc_attempt_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_attempt'))
    )
    with op.batch_alter_table('oidc_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_attempt_token_hash'), ['token_hash'], unique=True)

    op.create_table('user_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider_key', sa.String(length=32), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('claims', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_identity_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identity')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_user_identity_issuer_subject'))
    )
    with op.batch_alter_table('user_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_identity_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_identity_user_id'))

    op.drop_table('user_identity')
    with op.batch_alter_table('oidc_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_attempt_token_hash'))

    op.drop_table('oidc_attempt')
