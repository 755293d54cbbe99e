"""Calls for projects: their phases, rules, categories (themes), and the city's districts."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Phase(StrEnum):
    draft = "draft"
    submissions = "submissions"
    # A participatory budget's technical review: the city's services check each idea's
    # feasibility and estimate its cost before voting (app.budget.review); other calls skip it.
    technical_review = "technical_review"
    voting = "voting"
    review = "review"
    results = "results"
    closed = "closed"


PHASE_ORDER = list(Phase)


class VoteScope(StrEnum):
    call = "call"  # N votes over the whole call
    category = "category"  # N votes per theme ("pick 3 per theme", as Liège 2030 did)


class VotingMode(StrEnum):
    supports = "supports"  # citizens support ideas (app.vote)
    budget = "budget"  # citizens fill a ballot within a budget (app.budget)


class Call(SQLModel, table=True):
    __tablename__ = "call"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=sa.String(80), unique=True, index=True)
    title: str = Field(sa_type=sa.String(160))
    summary: str = Field(default="", sa_type=sa.String(500))
    description_md: str = Field(default="", sa_type=sa.Text)
    description_html: str = Field(default="", sa_type=sa.Text)
    cover_id: int | None = Field(default=None, foreign_key="media_file.id", ondelete="SET NULL")

    # Phase boundaries: the current phase follows the clock (see app.call.phases).
    submissions_start: datetime | None = None
    # Participatory budgets only (app.call.phases ignores it for other calls).
    technical_review_start: datetime | None = None
    voting_start: datetime | None = None
    review_start: datetime | None = None
    results_start: datetime | None = None
    closes_at: datetime | None = None
    # Set by an administrator to move the phase by hand; None lets the clock decide.
    phase_override: str | None = Field(default=None, sa_type=sa.String(20))

    # Rules
    ideas_per_citizen: int = 5
    premoderation: bool = False
    votes_per_citizen: int = 10
    vote_scope: str = Field(default=VoteScope.call, sa_type=sa.String(10))
    voting_during_submissions: bool = False
    # How citizens vote: supports, or a participatory budget's ballot (app.budget).
    voting_mode: str = Field(default=VotingMode.supports, sa_type=sa.String(10),
                             sa_column_kwargs={"server_default": "supports"})
    comments_during_submissions: bool = True
    comments_during_voting: bool = True
    report_threshold: int = 3
    # Who may submit ideas and who may support them: app.residents.models.Access.
    submit_access: str = Field(default="email", sa_type=sa.String(10))
    vote_access: str = Field(default="email", sa_type=sa.String(10))

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Content in every language (app.contentlang): the language it was written in, and its
    # translations {language: {field: {"text", "source", "saved_at"[, "html"]}}}.
    original_language: str = Field(default="fr", sa_type=sa.String(2), sa_column_kwargs={"server_default": "fr"})
    translations: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class Category(SQLModel, table=True):
    """A theme of a call."""

    __tablename__ = "category"
    __table_args__ = (sa.UniqueConstraint("call_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    slug: str = Field(sa_type=sa.String(80))
    name: str = Field(sa_type=sa.String(120))
    description: str = Field(default="", sa_type=sa.String(500))
    position: int = 0
    # Content in every language (app.contentlang): the language it was written in, and its
    # translations {language: {field: {"text", "source", "saved_at"[, "html"]}}}.
    original_language: str = Field(default="fr", sa_type=sa.String(2), sa_column_kwargs={"server_default": "fr"})
    translations: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class District(SQLModel, table=True):
    """A district of the city; shared by every call."""

    __tablename__ = "district"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=sa.String(80), unique=True)
    name: str = Field(sa_type=sa.String(120))
    position: int = 0
    # Content in every language (app.contentlang): the language it was written in, and its
    # translations {language: {field: {"text", "source", "saved_at"[, "html"]}}}.
    original_language: str = Field(default="fr", sa_type=sa.String(2), sa_column_kwargs={"server_default": "fr"})
    translations: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
