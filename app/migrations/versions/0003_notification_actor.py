"""notification: actor_id, so that a notification names its actor as they are now

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:40:00

A notification kept a copy of its actor's display name (actor_name). It now points at the
actor (actor_id): the list and e-mails show the actor's current name, "Former member" once the
account is deleted, and an erasure has no copy to hunt down. Existing comment and reply
notifications get their actor from their comment; the names copied before stay in actor_name
until that person's erasure blanks them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notification_actor_id"), ["actor_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_notification_actor_id_user_account"), "user_account",
                                    ["actor_id"], ["id"], ondelete="SET NULL")
    op.execute(
        "UPDATE notification SET actor_id = (SELECT comment.author_id FROM comment "
        "WHERE comment.id = notification.comment_id) "
        "WHERE kind IN ('comment', 'reply') AND comment_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notification_actor_id_user_account"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notification_actor_id"))
        batch_op.drop_column("actor_id")
