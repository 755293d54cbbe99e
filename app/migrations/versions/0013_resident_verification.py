"""residents: verification rules, resident verifications, per-call participation, call access

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 18:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('verification_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_key', sa.String(length=32), nullable=False),
    sa.Column('postal_code_claim', sa.String(length=100), nullable=False),
    sa.Column('postal_codes', sa.Text(), nullable=False),
    sa.Column('birthdate_claim', sa.String(length=100), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_rule'))
    )
    with op.batch_alter_table('verification_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_rule_provider_key'), ['provider_key'], unique=False)

    op.create_table('resident_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('resident_hash', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=32), nullable=False),
    sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['verification_rule.id'], name=op.f('fk_resident_verification_rule_id_verification_rule'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_resident_verification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_verification')),
    sa.UniqueConstraint('resident_hash', name=op.f('uq_resident_verification_resident_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_resident_verification_user_id'))
    )
    with op.batch_alter_table('resident_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_verification_rule_id'), ['rule_id'], unique=False)

    op.create_table('resident_participation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=10), nullable=False),
    sa.Column('resident_hash', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_resident_participation_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_participation')),
    sa.UniqueConstraint('call_id', 'part', 'resident_hash', name=op.f('uq_resident_participation_call_id_part_resident_hash'))
    )

    # Existing calls keep today's rule: any account with a confirmed e-mail address.
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submit_access', sa.String(length=10), nullable=False, server_default='email'))
        batch_op.add_column(sa.Column('vote_access', sa.String(length=10), nullable=False, server_default='email'))
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.alter_column('submit_access', server_default=None)
        batch_op.alter_column('vote_access', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('vote_access')
        batch_op.drop_column('submit_access')

    op.drop_table('resident_participation')
    with op.batch_alter_table('resident_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_verification_rule_id'))

    op.drop_table('resident_verification')
    with op.batch_alter_table('verification_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_rule_provider_key'))

    op.drop_table('verification_rule')
