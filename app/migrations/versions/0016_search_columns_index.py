"""idea: an index of what search reads of its candidates

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 19:45:00

A search reads up to 1,001 candidate ideas found by the full-text index, and of each only its
visibility, filter, facet and sort columns (app.search.backend._candidates). Read from the idea
table, each candidate costs a wide row (title, body as Markdown and HTML, answer); this index
of the id and those columns answers from narrow entries instead (SQLite: "USING COVERING
INDEX"), and the database keeps it in step with every change of an idea, so a search never
reads stale visibility. Measured at 100,000 ideas (scripts/bench_search.py): SQLite's CPU time
p95 from about 70 to about 50 ms per search.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["id", "status", "hidden_at", "call_id", "category_id", "district_id", "answer_status", "vote_count",
           "published_at"]


def upgrade() -> None:
    op.create_index("ix_idea_search_columns", "idea", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_idea_search_columns", table_name="idea")
