"""notifications: e-mails at once, in a daily or weekly digest, or none, per kind

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00

notification_preference.email (a boolean, on unless switched off) becomes `delivery`, one of
immediate, daily, weekly or none: an existing "on" keeps its meaning as immediate, "off" as
none. Notifications remember the digest they wait for (`digest`, `digested_at`), and
notification_digest records each period dealt with, unique per person, cadence and period, so
that the digest job sends a period once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=10), nullable=False,
                                      server_default="immediate"))
    op.execute("UPDATE notification_preference SET delivery = CASE WHEN email THEN 'immediate' ELSE 'none' END")
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.alter_column("delivery", server_default=None)
        batch_op.drop_column("email")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("digested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_notification_digest_due", ["digest", "digested_at", "created_at"], unique=False)

    op.create_table(
        "notification_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_notification_digest_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digest")),
        sa.UniqueConstraint("user_id", "cadence", "period", name="uq_notification_digest_period"),
    )


def downgrade() -> None:
    op.drop_table("notification_digest")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_digest_due")
        batch_op.drop_column("digested_at")
        batch_op.drop_column("digest")

    # A digest becomes "on" (immediate e-mails): the nearest the boolean can say.
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE notification_preference SET email = (delivery <> 'none')")
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.alter_column("email", server_default=None)
        batch_op.drop_column("delivery")
