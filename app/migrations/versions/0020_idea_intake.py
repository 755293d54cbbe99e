"""idea_intake: ideas entered by staff on a resident's behalf (paper, e-mail, phone...)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 00:40:00

One row per idea that reached the city off the platform (app.intake): its channel, the name the
resident wants shown, their contact (private), the scan of their paper form (a private media
file), who entered it, and for a bulk import the row's fingerprint, unique per call so that the
same file imported twice creates nothing the second time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("postal_address", sa.String(length=300), nullable=False),
        sa.Column("scan_media_id", sa.Integer(), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_idea_intake_call_id_call"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entered_by_id"], ["user_account.id"],
                                name=op.f("fk_idea_intake_entered_by_id_user_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["idea_id"], ["idea.id"], name=op.f("fk_idea_intake_idea_id_idea"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scan_media_id"], ["media_file.id"],
                                name=op.f("fk_idea_intake_scan_media_id_media_file"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_intake")),
        sa.UniqueConstraint("call_id", "fingerprint", name=op.f("uq_idea_intake_call_id_fingerprint")),
        sa.UniqueConstraint("idea_id", name=op.f("uq_idea_intake_idea_id")),
    )
    with op.batch_alter_table("idea_intake", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_intake_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_idea_intake_entered_by_id"), ["entered_by_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idea_intake", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_intake_entered_by_id"))
        batch_op.drop_index(batch_op.f("ix_idea_intake_call_id"))
    op.drop_table("idea_intake")
