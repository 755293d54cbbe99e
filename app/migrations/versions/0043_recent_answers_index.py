"""The latest official answers by date: an index of the answered ideas

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-02 02:00:00

The home page lists the latest official answers on public ideas (app.pages.home.recent_answers:
answered, newest first, a few). No index held the answer's date: PostgreSQL read every idea of
every call through a list index to find the answered ones and sorted them, 254 ms for the first
home page after each write at a million ideas (`python -m bench --ideas 1000000 ...`, after
VACUUM ANALYZE; 30 ms with the table in memory, for every signed-in visitor's home page, which
is not kept). This partial index holds the answered ideas alone, by status then date: the page
reads the answered ideas of the public statuses only, and sorts those. The status comes first
for SQLite, whose planner (no statistics) otherwise chose `ix_idea_status` for the statement's
status condition and read every public idea.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWERED = "answered_at IS NOT NULL AND answer_status IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_idea_recent_answers", "idea", ["status", "answered_at", "id"],
                    sqlite_where=sa.text(ANSWERED), postgresql_where=sa.text(ANSWERED))


def downgrade() -> None:
    op.drop_index("ix_idea_recent_answers", table_name="idea")
