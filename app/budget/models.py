"""Participatory budgets: a call's budget and ballot rules, the technical review of each idea,
and the citizens' ballots.

Amounts are whole euros (integers): a city votes budgets and costs in round euros, a cent would
be false precision, and integers add up exactly. An `int` column holds up to 2,147,483,647 €.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_


class BudgetScope(StrEnum):
    call = "call"  # one budget for the whole call
    district = "district"  # one budget per district (an idea spends its district's)
    category = "category"  # one budget per theme


SCOPE_LABELS = {
    BudgetScope.call: N_("One budget for the whole call"),
    BudgetScope.district: N_("One budget per district"),
    BudgetScope.category: N_("One budget per theme"),
}


class CallBudget(SQLModel, table=True):
    """The budget of a call in the budget voting mode (`Call.voting_mode == "budget"`)."""

    __tablename__ = "call_budget"

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    scope: str = Field(default=BudgetScope.call, sa_type=sa.String(10))
    # Whole euros. With scope "call" the budget; otherwise the sum of the shares (kept in step).
    total_eur: int = 0
    # A valid ballot holds at least `min_projects` projects and spends at least `min_percent` %
    # of the budget (0: no such rule); it never spends more than the budget.
    min_projects: int = 0
    min_percent: int = 0
    # When the reminder to citizens with an unconfirmed ballot was queued (once per call).
    reminded_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class BudgetShare(SQLModel, table=True):
    """The budget of one district (or one theme) of a call whose budget is split."""

    __tablename__ = "budget_share"
    __table_args__ = (sa.UniqueConstraint("call_id", "district_id", "category_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    district_id: int | None = Field(default=None, foreign_key="district.id", ondelete="CASCADE")
    category_id: int | None = Field(default=None, foreign_key="category.id", ondelete="CASCADE")
    amount_eur: int = 0


class IdeaReview(SQLModel, table=True):
    """The technical review of an idea: feasible or not (with a public reason), and its
    estimated cost in whole euros (with a public explanation). Only feasible, costed ideas go
    to the ballot."""

    __tablename__ = "idea_review"

    idea_id: int = Field(foreign_key="idea.id", primary_key=True, ondelete="CASCADE")
    feasible: bool = False
    reason: str = Field(default="", sa_type=sa.Text)
    cost_eur: int | None = None
    cost_explanation: str = Field(default="", sa_type=sa.Text)
    reviewer_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reviewed_at: datetime = Field(default_factory=utcnow)


class Ballot(SQLModel, table=True):
    """One citizen's ballot in one call. It counts only once confirmed (`confirmed_at`)."""

    __tablename__ = "ballot"
    __table_args__ = (sa.UniqueConstraint("call_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BallotItem(SQLModel, table=True):
    """A project in a ballot."""

    __tablename__ = "ballot_item"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "idea_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True, ondelete="CASCADE")
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
