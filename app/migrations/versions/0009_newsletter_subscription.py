"""newsletter: subscriptions to the city's announcements by e-mail

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 15:20:00

One new table and no change to existing rows. `newsletter_subscription` holds one row per
e-mail address (normalised, unique): its language, its state (pending until the address is
confirmed, confirmed, unsubscribed), the account that subscribed while signed in, and when it
was last told it is already subscribed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "newsletter_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notice_sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_newsletter_subscription_user_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_newsletter_subscription")),
        sa.UniqueConstraint("email", name=op.f("uq_newsletter_subscription_email")),
    )
    with op.batch_alter_table("newsletter_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_newsletter_subscription_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("newsletter_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_newsletter_subscription_user_id"))
    op.drop_table("newsletter_subscription")
