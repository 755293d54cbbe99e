"""The assistant answers mentions of the city's Mastodon account: a question may come from a
mention (its channel, remote id, author's handle and visibility), a delivery may answer a
question instead of carrying an announcement, and a channel keeps the last mention it read

Revision ID: 0033
Revises: 0031
Create Date: 2026-11-30 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0033"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions_since", sa.String(length=40), nullable=False, server_default=""))
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("remote_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("remote_handle", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("remote_visibility", sa.String(length=10), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_assistant_question_channel_id_channel_account"),
                                    "channel_account", ["channel_id"], ["id"], ondelete="SET NULL")
        batch_op.create_unique_constraint(batch_op.f("uq_assistant_question_channel_id_remote_id"),
                                          ["channel_id", "remote_id"])
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.alter_column("announcement_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("question_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_announcement_delivery_question_id_assistant_question"),
                                    "assistant_question", ["question_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(batch_op.f("ix_announcement_delivery_question_id"), ["question_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_announcement_delivery_question_id_target"),
                                          ["question_id", "target"])
        batch_op.create_check_constraint("one_subject", "(announcement_id IS NULL) <> (question_id IS NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM announcement_delivery WHERE announcement_id IS NULL")
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_announcement_delivery_one_subject"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_announcement_delivery_question_id_target"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_announcement_delivery_question_id"))
        batch_op.drop_constraint(batch_op.f("fk_announcement_delivery_question_id_assistant_question"),
                                 type_="foreignkey")
        batch_op.drop_column("text")
        batch_op.drop_column("question_id")
        batch_op.alter_column("announcement_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_assistant_question_channel_id_remote_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_assistant_question_channel_id_channel_account"), type_="foreignkey")
        batch_op.drop_column("remote_visibility")
        batch_op.drop_column("remote_handle")
        batch_op.drop_column("remote_id")
        batch_op.drop_column("channel_id")
    with op.batch_alter_table("channel_account", schema=None) as batch_op:
        batch_op.drop_column("mentions_since")
