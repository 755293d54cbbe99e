"""What the media domain keeps about a person: the files they uploaded. The files are exported
with what they illustrate (an idea's photos); at deletion they lose their owner."""

from sqlalchemy import update
from sqlmodel import Session, col

from app.media.models import MediaFile
from app.personal_data import Holding
from app.settings import Settings


def erase_media(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """The person's remaining files (those of drafts are already gone) lose their owner.
    Returns no figure."""
    session.execute(update(MediaFile).where(col(MediaFile.owner_id) == user_id).values(owner_id=None))
    return {}


MEDIA = Holding("media_files", erase=erase_media)
