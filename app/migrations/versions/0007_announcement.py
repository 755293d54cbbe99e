"""announcement: what the city announces, and which events of each call may be announced

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:05:00

Two new tables and no change to existing rows. `announcement` holds each announcement (its
event, its text per language, link, image and state: draft, scheduled, published, cancelled);
`call_announcement_settings` holds, per call, the events turned off (no row: every event may be
announced, the default for existing calls).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("idea_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("image_alt", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scheduled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("delivery_note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_announcement_call_id_call"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["idea_id"], ["idea.id"], name=op.f("fk_announcement_idea_id_idea"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["image_id"], ["media_file.id"], name=op.f("fk_announcement_image_id_media_file"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"],
                                name=op.f("fk_announcement_author_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
    )
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcement_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_announcement_status_published", ["status", "published_at"], unique=False)
    op.create_table(
        "call_announcement_settings",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("disabled_events", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_call_announcement_settings_call_id_call"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_announcement_settings")),
    )


def downgrade() -> None:
    op.drop_table("call_announcement_settings")
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index("ix_announcement_status_published")
        batch_op.drop_index(batch_op.f("ix_announcement_call_id"))
    op.drop_table("announcement")
