"""A person's data export as one ZIP file: `data.json` (app.account.privacy.export_data: the
account and every holding of app/privacy_registry.py) and the photos of the ideas they wrote
under `photos/`, each photo's entry in the JSON naming its file (`"file"`).

The archive is built for the logged-in owner in the answer to their POST and exists nowhere
else: written to a temporary file of this request only (in memory while small), streamed, then
gone. No address leads to it, so there is nothing another person could guess, be sent or open.
"""

import json
import shutil
import zipfile
from collections.abc import Iterator
from tempfile import SpooledTemporaryFile
from typing import IO, Any

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
    `"file": None`)."""
    data = export_data(session, settings, user)
    files = _photo_files(session, settings, user)
    for idea in data.get("ideas") or []:
        for photo in idea.get("photos") or []:
            found = files.get(photo.get("id"))
            photo["file"] = found[0] if found is not None else None
    archive: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY_UP_TO)  # noqa: SIM115  (closed by chunks())
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(DATA_NAME, json.dumps(data, ensure_ascii=False, indent=2))
        for name, path in files.values():
            # Photos are compressed already: stored as they are.
            with path.open("rb") as source, zipped.open(zipfile.ZipInfo(name), "w") as target:
                shutil.copyfileobj(source, target, CHUNK)
    archive.seek(0)
    return archive


def _photo_files(session: Session, settings: Settings, user: User) -> dict[int, tuple[str, Any]]:
    """{photo id: (name in the archive, path of the stored file)} for the photos of the ideas
    `user` wrote, found through the media storage (app.media.service.largest_file)."""
    rows = session.exec(select(IdeaPhoto, MediaFile)
                        .join(MediaFile, col(MediaFile.id) == IdeaPhoto.media_id)
                        .join(Idea, col(Idea.id) == IdeaPhoto.idea_id)
                        .where(Idea.author_id == user.id)
                        .order_by(col(IdeaPhoto.idea_id), col(IdeaPhoto.position), col(IdeaPhoto.id))).all()
    files: dict[int, tuple[str, Any]] = {}
    for photo, media in rows:
        found = media_service.largest_file(settings, media)
        if found is None or photo.id is None:
            continue
        path, ext = found
        files[photo.id] = (f"{PHOTOS_FOLDER}/idea-{photo.idea_id}-photo-{photo.id}.{ext}", path)
    return files


def chunks(archive: IO[bytes]) -> Iterator[bytes]:
    """The archive's bytes in pieces, for a streamed answer; closes (and so deletes) it at the end."""
    try:
        while piece := archive.read(CHUNK):
            yield piece
    finally:
        archive.close()
