"""Images and shortcuts for the idea tests."""

import io

from PIL import Image
from sqlmodel import Session

from app.idea.models import Idea, IdeaPhoto
from app.media import service as media_service
from app.settings import Settings


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (30, 120, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def add_photo(session: Session, settings: Settings, idea: Idea, alt: str = "Une photo") -> IdeaPhoto:
    media = media_service.store_image(session, settings, data=png(), owner_id=idea.author_id)
    assert idea.id is not None and media.id is not None
    photo = IdeaPhoto(idea_id=idea.id, media_id=media.id, alt_text=alt)
    session.add(photo)
    session.flush()
    return photo
