"""What the submission domain keeps about a person: for a day, where each create form they sent
led (app.submission). Nothing they gave, so nothing to export; erased with the account."""

from sqlalchemy import delete
from sqlmodel import Session, col

from app.personal_data import Holding
from app.settings import Settings
from app.submission.models import FormSubmission


def erase_submissions(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's records of sent forms. Returns no figure."""
    session.execute(delete(FormSubmission).where(col(FormSubmission.user_id) == user_id))
    return {}


SUBMISSIONS = Holding("form_submissions", erase=erase_submissions)
