"""idea: indexes of the ideas of a theme and of a district, for searches filtered by them

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 21:50:00

A search filtered by a call, a theme or a district looks each match of the full-text index up
among the ids of the ideas so filtered (app.search.backend._candidates), read once per search
from an index: the call's ideas from `ix_idea_call_id`, a theme's (with its call and district)
from `ix_idea_category_filters`, a district's from `ix_idea_district_filters`. Without them,
the ideas of a theme were read from the wide rows of the call's ideas, or from every idea.
Measured at 100,000 ideas (scripts/bench_search.py, SQLite, on a shared 2-core machine): a
search filtered by a call and a theme, server CPU p50 from 42 to 19-23 ms, p95 from 64 to
32-38 ms (load 3.5 to 8).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idea_category_filters", "idea", ["category_id", "call_id", "district_id"])
    op.create_index("ix_idea_district_filters", "idea", ["district_id", "call_id", "category_id"])


def downgrade() -> None:
    op.drop_index("ix_idea_district_filters", table_name="idea")
    op.drop_index("ix_idea_category_filters", table_name="idea")
