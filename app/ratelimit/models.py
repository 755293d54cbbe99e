from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class RateLimitHit(SQLModel, table=True):
    """One counted event (a failed login, a registration, a new idea...). Kept in the
    database so that limits hold across every process behind the load balancer."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (sa.Index("ix_rate_limit_hit_key_at", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.String(200))
    created_at: datetime = Field(default_factory=utcnow)
