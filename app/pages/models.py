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


class Participation(SQLModel, table=True):
    """What one person did that makes them a participant in the home page's figures
    (app.pages.home.key_figures): their public ideas and the supports they gave (on any idea).
    Kept by triggers of migration 0042 on `idea` and `vote`, never written by the application. No
    foreign key: an account row deleted takes its votes (ON DELETE CASCADE) and its ideas' author
    (SET NULL) with it, whose triggers bring the row to zero."""

    __tablename__ = "participation"

    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    public_ideas: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    supports: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class KeyFiguresTally(SQLModel, table=True):
    """A share of the home page's key figures (migration 0042): public ideas, the supports they
    hold (the sum of their `vote_count`) and people with a public idea or a support. The figures are
    the sums over all rows; a write adds to the row of its idea's id modulo 256 (SHARDS), so
    that writers of different ideas do not wait for one row. Kept by triggers only."""

    __tablename__ = "key_figures_tally"

    shard: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ideas: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    supports: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    participants: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
