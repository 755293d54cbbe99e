"""The legal and trust pages as administrators wrote them (one row per page and language)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class LegalPage(SQLModel, table=True):
    """The text of one legal page (`kind`, a key of app.pages.legal.KINDS) in one interface
    language (`lang`, one of app.settings.LANGUAGES): Markdown as written and its rendered,
    sanitised HTML. `body_md` "" means the platform's default text (a reset keeps the row, so
    that the audit log's entries keep pointing at it). `updated_by_id` the last administrator
    who saved it."""

    __tablename__ = "legal_page"
    __table_args__ = (sa.UniqueConstraint("kind", "lang"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(20))
    lang: str = Field(sa_type=sa.String(5))
    body_md: str = Field(default="", sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # A translation's: app.contentlang.fingerprint of the original it was made from ("" for the
    # original, the defaults, and translations saved before migration 0035).
    source_fingerprint: str = Field(default="", sa_type=sa.String(64), sa_column_kwargs={"server_default": ""})
