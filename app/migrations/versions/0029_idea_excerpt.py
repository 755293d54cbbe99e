"""idea: the card's excerpt, computed when the text is written

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30 04:30:00
"""
import html
from collections.abc import Sequence

import nh3
import sqlalchemy as sa
from alembic import op


revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LENGTH = 180
BATCH = 1000


def _excerpt(body_html: str | None) -> str:
    # As app.idea.models.card_excerpt computed it when this revision was written (kept here so
    # that the migration gives the same text whatever the application's code becomes).
    text = " ".join(html.unescape(nh3.clean(body_html or "", tags=set())).split())
    return text if len(text) <= LENGTH else text[: LENGTH - 1].rsplit(" ", 1)[0] + "…"


def upgrade() -> None:
    with op.batch_alter_table("idea") as batch:
        batch.add_column(sa.Column("excerpt", sa.String(length=200), nullable=False, server_default=""))
    conn = op.get_bind()
    idea = sa.table("idea", sa.column("id", sa.Integer), sa.column("body_html", sa.Text),
                    sa.column("excerpt", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(idea.c.id, idea.c.body_html).where(idea.c.id > last)
                            .order_by(idea.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(idea.update().where(idea.c.id == sa.bindparam("row_id")).values(excerpt=sa.bindparam("text")),
                     [{"row_id": row_id, "text": _excerpt(body)} for row_id, body in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("idea") as batch:
        batch.drop_column("excerpt")
