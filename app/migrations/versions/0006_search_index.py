"""idea_search: the full-text index of public ideas

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:20:00

Citizens search ideas by their words (app/search). SQLite gets an FTS5 virtual table (rowid =
idea id), PostgreSQL a table of tsvector documents with a GIN index and the `unaccent`
extension, and the words of the index with a trigram index (`pg_trgm`) to correct typos. Neither is a SQLModel model (app/search/schema.py keeps them out of the drift
comparison). The index starts empty: `reinventons reindex` fills it from the database, and the
outbox keeps it up to date from then on.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("""
            CREATE TABLE idea_search (
                idea_id INTEGER NOT NULL,
                document TSVECTOR NOT NULL,
                CONSTRAINT pk_idea_search PRIMARY KEY (idea_id),
                CONSTRAINT fk_idea_search_idea_id_idea FOREIGN KEY (idea_id) REFERENCES idea (id)
                    ON DELETE CASCADE
            )""")
        op.execute("CREATE INDEX ix_idea_search_document ON idea_search USING GIN (document)")
        # The words of the indexed ideas, to correct a typo in a query by trigram similarity.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE TABLE idea_search_word (word TEXT NOT NULL, CONSTRAINT pk_idea_search_word PRIMARY KEY (word))")
        op.execute("CREATE INDEX ix_idea_search_word_trgm ON idea_search_word USING GIN (word gin_trgm_ops)")
    else:
        # The same definition as app.search.sqlite_fts.CREATE, written out: a migration stays as it ran.
        op.execute("CREATE VIRTUAL TABLE idea_search USING fts5(title, body, "
                   "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")


def downgrade() -> None:
    # The unaccent and pg_trgm extensions stay: other objects may use them, they hold no data.
    op.execute("DROP TABLE idea_search")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE idea_search_word")
