"""idea_version: every edit of an idea's wording after its draft, before and after

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:10:00

An author could rewrite a published idea (its title, text, theme, district) and the supports
stayed on what it said now, with no trace of what it said before. Each such edit is now kept as
one row: the wording before and after (Markdown and its sanitised HTML), who edited, in which
status. Existing ideas start without versions: what they said before was never kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("by_moderation", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title_before", sa.String(length=120), nullable=False),
        sa.Column("title_after", sa.String(length=120), nullable=False),
        sa.Column("body_md_before", sa.Text(), nullable=False),
        sa.Column("body_md_after", sa.Text(), nullable=False),
        sa.Column("body_html_before", sa.Text(), nullable=False),
        sa.Column("body_html_after", sa.Text(), nullable=False),
        sa.Column("category_before_id", sa.Integer(), nullable=True),
        sa.Column("category_after_id", sa.Integer(), nullable=True),
        sa.Column("district_before_id", sa.Integer(), nullable=True),
        sa.Column("district_after_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("told_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["idea_id"], ["idea.id"],
                                name=op.f("fk_idea_version_idea_id_idea"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["editor_id"], ["user_account.id"],
                                name=op.f("fk_idea_version_editor_id_user_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_before_id"], ["category.id"],
                                name=op.f("fk_idea_version_category_before_id_category"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_after_id"], ["category.id"],
                                name=op.f("fk_idea_version_category_after_id_category"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["district_before_id"], ["district.id"],
                                name=op.f("fk_idea_version_district_before_id_district"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["district_after_id"], ["district.id"],
                                name=op.f("fk_idea_version_district_after_id_district"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_version")),
    )
    with op.batch_alter_table("idea_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_version_editor_id"), ["editor_id"], unique=False)
        batch_op.create_index("ix_idea_version_idea_created", ["idea_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idea_version", schema=None) as batch_op:
        batch_op.drop_index("ix_idea_version_idea_created")
        batch_op.drop_index(batch_op.f("ix_idea_version_editor_id"))
    op.drop_table("idea_version")
