"""What moderation keeps about a person: the calls they moderate, which end with the account.

The audit log (app.audit) is not a holding: its entries keep pointing at the anonymised
account, because every moderation decision stays traceable."""

from sqlalchemy import delete
from sqlmodel import Session, col

from app.moderation.models import ModeratorAssignment
from app.personal_data import Holding
from app.settings import Settings


def erase_assignments(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Remove the person from every call they moderate. Returns no figure."""
    session.execute(delete(ModeratorAssignment).where(col(ModeratorAssignment.user_id) == user_id))
    return {}


ASSIGNMENTS = Holding("moderator_assignments", erase=erase_assignments)
