"""assistant_entry, assistant_question: the assistant's knowledge and the questions asked

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 04:20:00

Entries written by staff (a question, other phrasings, an answer rendered at write time, a
language, a topic, an owner and a review date) and the questions people asked the assistant,
with how each was answered (an entry, live data, or a person in the moderators' queue).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistant_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("phrasings", sa.Text(), nullable=False),
        sa.Column("answer_md", sa.Text(), nullable=False),
        sa.Column("answer_html", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user_account.id"],
                                name=op.f("fk_assistant_entry_owner_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_entry")),
    )
    with op.batch_alter_table("assistant_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistant_entry_language"), ["language"], unique=False)
        batch_op.create_index(batch_op.f("ix_assistant_entry_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "assistant_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("intent", sa.String(length=30), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("handed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("answer_md", sa.Text(), nullable=False),
        sa.Column("answer_html", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("promoted_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by_id"], ["user_account.id"],
                                name=op.f("fk_assistant_question_answered_by_id_user_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entry_id"], ["assistant_entry.id"],
                                name=op.f("fk_assistant_question_entry_id_assistant_entry"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["promoted_entry_id"], ["assistant_entry.id"],
                                name=op.f("fk_assistant_question_promoted_entry_id_assistant_entry"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_assistant_question_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_question")),
    )
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistant_question_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_assistant_question_outcome_created", ["outcome", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.drop_index("ix_assistant_question_outcome_created")
        batch_op.drop_index(batch_op.f("ix_assistant_question_user_id"))
    op.drop_table("assistant_question")
    with op.batch_alter_table("assistant_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistant_entry_owner_id"))
        batch_op.drop_index(batch_op.f("ix_assistant_entry_language"))
    op.drop_table("assistant_entry")
