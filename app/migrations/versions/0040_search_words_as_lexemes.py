"""idea_search_word on PostgreSQL: the index's own lexemes, so that a prefix is expanded into them

Revision ID: 0040
Revises: 0039
Create Date: 2026-11-30 15:10:00

PostgreSQL's search backend now expands a query's last word (a prefix) into the indexed words
it starts, read from `idea_search_word` (app.search.postgres.query_words): a GIN index reads a
prefix lexeme's lists into a bitmap without skipping, whole words' lists it intersects. That is
right only if the table holds the words exactly as the tsvectors do: until now it held them
folded by Python (app.search.text.fold), which `unaccent` does not always agree with ("ß" stays
"ß" in Python, is "ss" for `unaccent`; "œ" is "oe"). The table is refilled from the lexemes of
`idea_search` (4 to 40 letters, as app.search.text.vocabulary keeps, without the filters'
"#" tokens); indexing writes lexemes from now on. SQLite's backend is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFILL = """
    INSERT INTO idea_search_word (word)
    SELECT DISTINCT l.lexeme FROM idea_search, unnest(document) AS l(lexeme, positions, weights)
    WHERE length(l.lexeme) >= 4 AND l.lexeme NOT LIKE '#%'
    ON CONFLICT (word) DO NOTHING
"""


# SQLite's words table kept 4 to 40 letters; a prefix must find the longer words too ("donau"
# finds a German compound of 60 letters): FTS5's own vocabulary (migration 0038) holds them as
# the index does.
LONG_WORDS = """
    INSERT OR IGNORE INTO idea_search_word (word)
    SELECT term FROM idea_search_vocab WHERE length(term) > 40
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DELETE FROM idea_search_word")
        op.execute(REFILL)
    else:
        op.execute(LONG_WORDS)


def downgrade() -> None:
    # The lexemes are the folded words but where `unaccent` and Python's folding differ: the
    # older code finds nearly all the same words in them; `reinventons reindex` rewrites them.
    pass
