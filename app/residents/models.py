"""Verified residents: the rules an administrator sets per OpenID Connect provider, the
verification of an account that passed one, and per call the residents who took part.

What is stored is the least the platform needs to say "one resident, one account, one vote":
no claim value (postal code, birth date) is ever written, only which rule passed and when, and a
keyed hash of the provider's (issuer, subject) (app.residents.service.resident_hash).
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Access(StrEnum):
    """Who may submit ideas to a call, or support them (Call.submit_access, Call.vote_access)."""

    email = "email"  # any account with a confirmed e-mail address
    residents = "residents"  # verified residents only


class Part(StrEnum):
    """What a person does in a call, for the call's access rule and the participation record."""

    submit = "submit"
    vote = "vote"


class VerificationRule(SQLModel, table=True):
    """A condition a provider's claims must meet for the person to be a verified resident. Each
    condition set must hold (postal code in the list, and age at least `min_age`); a provider's
    rules are alternatives: one passing rule is enough. `postal_codes` holds the codes normalised
    (upper case) and separated by ", "; "" for no postal-code condition. Claim names may be
    dotted paths into JSON objects (`address.postal_code`, OpenID Connect Core 5.1.1)."""

    __tablename__ = "verification_rule"

    id: int | None = Field(default=None, primary_key=True)
    provider_key: str = Field(sa_type=sa.String(32), index=True)
    postal_code_claim: str = Field(default="", sa_type=sa.String(100))
    postal_codes: str = Field(default="", sa_type=sa.Text)
    birthdate_claim: str = Field(default="", sa_type=sa.String(100))
    min_age: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ResidentVerification(SQLModel, table=True):
    """An account verified as a resident: which rule passed and when, and `resident_hash`, the
    keyed hash of the (issuer, subject) that passed it (unique: one resident verifies one account
    at a time). `holder` is a random value naming this account's hold on residency, kept when the
    account verifies again; per-call participation rows carry it, so that a row made under
    another holder (an earlier, deleted account of the same resident) is told apart. Deleted with
    the account (and with its rule)."""

    __tablename__ = "resident_verification"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    rule_id: int = Field(foreign_key="verification_rule.id", index=True, ondelete="CASCADE")
    resident_hash: str = Field(sa_type=sa.String(64), unique=True)
    holder: str = Field(sa_type=sa.String(32))
    verified_at: datetime = Field(default_factory=utcnow)
    # The age band at verification, from the provider's birthdate claim when it gives one (the
    # date itself is never kept): app.residents.service.AGE_BANDS; None when not given.
    age_band: str | None = Field(default=None, sa_type=sa.String(10))


class ResidentParticipation(SQLModel, table=True):
    """A resident who took part in a call (submitted an idea, or supported one) where the call
    required verified residents for it: the resident hash and the holder it took part under,
    nothing else. Kept when the account is deleted, so that the same resident cannot take part
    again in that call under a new account (see app.residents.privacy)."""

    __tablename__ = "resident_participation"
    __table_args__ = (sa.UniqueConstraint("call_id", "part", "resident_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE")
    part: str = Field(sa_type=sa.String(10))
    resident_hash: str = Field(sa_type=sa.String(64))
    holder: str = Field(sa_type=sa.String(32))
    created_at: datetime = Field(default_factory=utcnow)
