"""A subscription to the city's announcements by e-mail (double opt-in, per language)."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class SubscriptionStatus(StrEnum):
    pending = "pending"  # asked for, the address not confirmed yet: nothing is sent but the confirmation
    confirmed = "confirmed"  # receives every announcement
    unsubscribed = "unsubscribed"  # receives nothing; subscribing again starts over at pending


class NewsletterSubscription(SQLModel, table=True):
    """One address's subscription. `email` is normalised (trimmed, lower-case) and unique;
    `language` one of app.settings.LANGUAGES, the language of the e-mails; `user_id` the account
    that subscribed while signed in, if any (the subscription belongs to the address, not to the
    account); `notice_sent_at` when the address was last told it is already subscribed (at most
    once a day)."""

    __tablename__ = "newsletter_subscription"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=sa.String(254), unique=True)
    language: str = Field(default="fr", sa_type=sa.String(5))
    status: str = Field(default=SubscriptionStatus.pending, sa_type=sa.String(12))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = None
    notice_sent_at: datetime | None = None
