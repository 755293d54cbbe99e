"""The idea list's orders as indexes: newest, most supported, most discussed, per call

Revision ID: 0039
Revises: 0038
Create Date: 2026-11-30 15:30:00

A call's idea list (app.idea.queries.idea_page) read the call's public ideas through
`ix_idea_call_status` and sorted them: every row of the call was looked up and, for a sort by
supports or comments, ordered in a temporary tree. At 100,000 ideas (33,000 in the call,
`python -m bench --size medium`, SQLite): the count 125 ms, page 200 of the newest 82 ms, the
most supported 30 ms; with these indexes 2 ms, under 1 ms and under 1 ms. Each index starts
with the call and the order, then holds every column the list filters on, so that the count,
the filters and the deep pages are read from the index alone and only the page's 24 rows from
the table. `ix_idea_call_votes` (call, supports) is the first half of the supports' index.

A person's ideas in a call (the call page's "my ideas", each signed-in visit) are found by
author and call together: with an index of the author alone, SQLite's planner, which has no
statistics, chose the call's index and read its 33,000 ideas (24 ms a page).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["status", "hidden_at", "category_id", "district_id", "answer_status"]
ORDERS = {"ix_idea_list_newest": ["published_at", "id"],
          "ix_idea_list_supported": ["vote_count", "published_at", "id"],
          "ix_idea_list_discussed": ["comment_count", "published_at", "id"]}


def upgrade() -> None:
    for name, order in ORDERS.items():
        op.create_index(name, "idea", ["call_id", *order, *FILTERS])
    op.drop_index("ix_idea_call_votes", table_name="idea")
    op.create_index("ix_idea_author_call", "idea", ["author_id", "call_id", "created_at"])
    op.drop_index("ix_idea_author_id", table_name="idea")


def downgrade() -> None:
    op.create_index("ix_idea_author_id", "idea", ["author_id"])
    op.drop_index("ix_idea_author_call", table_name="idea")
    op.create_index("ix_idea_call_votes", "idea", ["call_id", "vote_count"])
    for name in ORDERS:
        op.drop_index(name, table_name="idea")
