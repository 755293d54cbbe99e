"""Forms already carried out: what a repeated submission of the same form is answered with."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class FormSubmission(SQLModel, table=True):
    """One carried-out submission of a create form, kept a day.

    `key` is a digest of the form's one-time token, the form, the person and what they sent
    (app.submission.service.claim); its unique index lets only one of several identical
    requests through, even in parallel. The others find this row and answer as the first did:
    `location` (where it redirected), the flashed `message` and the created row's `object_id`.
    """

    __tablename__ = "form_submission"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=sa.String(64), unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True,
                                ondelete="CASCADE")
    location: str = Field(default="", sa_type=sa.String(500))
    message: str = Field(default="", sa_type=sa.String(300))  # an English msgid, translated when shown
    category: str = Field(default="success", sa_type=sa.String(20))
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    object_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
