"""A person's data export as one ZIP file: `data.json` (app.account.privacy.export_data: the
account and every holding of app/privacy_registry.py) and the photos of the ideas they wrote
under `photos/`, each photo's entry in the JSON naming its file (`"file"`).

The archive is built for the logged-in owner in the answer to their POST and exists nowhere
else: written to a temporary file of this request only (in memory while small), streamed, then
gone. No address leads to it, so there is nothing another person could guess, be sent or open.
"""

import json
import zipfile
from collections.abc import Iterator, Sequence
from tempfile import SpooledTemporaryFile
from typing import IO

from sqlmodel import Session, col, select

from app.account.models import User
from app.account.privacy import export_data
from app.idea.models import Idea, IdeaPhoto
from app.media import service as media_service
from app.media.models import MediaFile
from app.settings import Settings

DATA_NAME = "data.json"
PHOTOS_FOLDER = "photos"
IN_MEMORY_UP_TO = 8 * 1024 * 1024  # bytes; a larger archive spills to a temporary file
CHUNK = 64 * 1024


def build_archive(session: Session, settings: Settings, user: User) -> IO[bytes]:
    """The ZIP of `user`'s data, rewound, in a temporary file the caller closes (or streams with
    `chunks`, which closes it). Photos whose file is missing are left out (their entry has
    `"file": None`). Raises StorageError when the media storage does not answer."""
    data = export_data(session, settings, user)
    archive: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY_UP_TO)  # noqa: SIM115  (closed by chunks())
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        # The photos first, one in memory at a time; data.json then names those that were found.
        files: dict[int, str] = {}
        for photo, media in _photos(session, user):
            found = media_service.largest_file(settings, media)
            if found is None or photo.id is None:
                continue
            content, ext = found
            name = files[photo.id] = f"{PHOTOS_FOLDER}/idea-{photo.idea_id}-photo-{photo.id}.{ext}"
            # Photos are compressed already: stored as they are.
            zipped.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_STORED)
        for idea in data.get("ideas") or []:
            for entry in idea.get("photos") or []:
                entry["file"] = files.get(entry.get("id"))
        zipped.writestr(DATA_NAME, json.dumps(data, ensure_ascii=False, indent=2))
    archive.seek(0)
    return archive


def _photos(session: Session, user: User) -> Sequence[tuple[IdeaPhoto, MediaFile]]:
    """(photo, its media row) for the photos of the ideas `user` wrote, in the ideas' order."""
    return session.exec(select(IdeaPhoto, MediaFile)
                        .join(MediaFile, col(MediaFile.id) == IdeaPhoto.media_id)
                        .join(Idea, col(Idea.id) == IdeaPhoto.idea_id)
                        .where(Idea.author_id == user.id)
                        .order_by(col(IdeaPhoto.idea_id), col(IdeaPhoto.position), col(IdeaPhoto.id))).all()


def chunks(archive: IO[bytes]) -> Iterator[bytes]:
    """The archive's bytes in pieces, for a streamed answer; closes (and so deletes) it at the end."""
    try:
        while piece := archive.read(CHUNK):
            yield piece
    finally:
        archive.close()
