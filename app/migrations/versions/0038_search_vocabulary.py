"""idea_search_vocab: FTS5's own vocabulary of the search index (SQLite), for typo correction

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-30 12:10:00

SQLite's search backend corrects a query word found nowhere in the index by the indexed word
one edit away that the most ideas hold (app.search.sqlite_fts.corrected). It asks FTS5's
vocabulary which words the index holds now and in how many ideas: an `fts5vocab` table, which
stores nothing of its own but reads `idea_search`'s index, so the words of the ideas already
indexed are there as soon as it is created, and `reinventons reindex` (which rewrites
`idea_search`) keeps it right. PostgreSQL's backend has corrected typos with `pg_trgm` since
0006: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE idea_search_vocab USING fts5vocab(idea_search, row)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE idea_search_vocab")
