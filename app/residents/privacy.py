"""What the residents domain keeps about a person: their verification as a resident (which
rule of which provider passed, and when; the keyed hash of their identity is not exported, it is
a digest useful only to the platform). Deleted with the account: a later sign-in with the same
identity may verify a new account.

Not erased, on purpose: the per-call participation rows (ResidentParticipation: a call, "submit"
or "vote", the keyed hash and a random holder value). Without the verification row they name
nobody: the hash is an HMAC under the platform's secret of an identity the platform no longer
holds, so nobody can tell whose it is, until the same person signs in again with the same
identity, which is exactly when the row must stop them taking part twice in that call. They go
with their call.
"""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account.models import User
from app.personal_data import Holding, when
from app.residents.models import ResidentVerification, VerificationRule
from app.settings import Settings


def export_verification(session: Session, *, user: User, base_url: str) -> dict[str, Any] | None:
    """The person's verification as a resident: the provider whose rule passed and when, and the
    age band read from its claims (app.residents.service.AGE_BANDS, or None); None
    when they are not verified."""
    verification = session.exec(select(ResidentVerification).where(ResidentVerification.user_id == user.id)).first()
    if verification is None:
        return None
    rule = session.get(VerificationRule, verification.rule_id)
    return {"provider": rule.provider_key if rule else None, "rule": verification.rule_id,
            "verified_at": when(verification.verified_at), "age_band": verification.age_band}


def erase_verification(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's verification. Returns no figure."""
    session.execute(delete(ResidentVerification).where(col(ResidentVerification.user_id) == user_id))
    return {}


VERIFICATION = Holding("resident_verification", export=export_verification, erase=erase_verification)
