"""What the media domain keeps about a person: the files they uploaded, and for a day the count
of photos they sent (their quota). The files are exported with what they illustrate (an idea's
photos); at deletion they lose their owner and the count goes."""

from sqlalchemy import delete, update
from sqlmodel import Session, col

from app.media.models import MediaFile, UploadCharge
from app.personal_data import Holding
from app.settings import Settings


def erase_media(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """The person's remaining files (those of drafts are already gone) lose their owner; their
    photo quota's count is deleted. Returns no figure."""
    session.execute(update(MediaFile).where(col(MediaFile.owner_id) == user_id).values(owner_id=None))
    session.execute(delete(UploadCharge).where(col(UploadCharge.user_id) == user_id))
    return {}


MEDIA = Holding("media_files", erase=erase_media)
