"""Storing, serving and deleting uploaded images.

Files live at `settings.media_dir / <key> / <variant>.jpg`, where `key` is 32 random hex
characters made here: nothing the sender chose (file name, content type) is ever used for a
path, a name or a header.

Files and rows: variants are written (atomically: temporary file + rename) before the row is
flushed, inside the caller's transaction. If that transaction is rolled back (e.g. another
field of the form was invalid), the files written for it are removed when it ends. If the
process dies in between, the files are orphans: harmless, since nothing links to them and no
URL can reach them without a row; `prune_orphans` removes them. `delete_media` removes the
files only once the deletion is committed.
"""

import os
import re
import secrets
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse, Response
from sqlalchemy import delete, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from app.account.models import User
from app.clock import utcnow
from app.errors import NotFound, RateLimited, ValidationFailed
from app.i18n import N_, format_number, gettext
from app.locks import lock_user
from app.media import images
from app.media.images import ImageRejected, Refusal
from app.media.models import MediaFile, UploadCharge
from app.settings import Settings

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
# Served types come from this table, keyed by the extension the pipeline chose: never from input.
CONTENT_TYPES = {"jpg": "image/jpeg", "webp": "image/webp"}
PUBLIC_CACHE = "public, max-age=31536000, immutable"  # keys are never reused
PRIVATE_CACHE = "private, no-store"
MEDIA_CSP = "default-src 'none'; sandbox"

_MESSAGES = {
    Refusal.empty: N_("The file is empty. Please choose a photo."),
    Refusal.unsupported: N_("This file is not a photo in an accepted format. Please send a JPEG, PNG or WebP image."),
    Refusal.animated: N_("Animated images are not accepted. Please send a still photo."),
    Refusal.corrupt: N_("This photo could not be read: the file seems damaged or incomplete. Please try another one."),
}

QUOTA_WINDOW = timedelta(days=1)

_PENDING_WRITES = "media_written"  # session.info: directories to remove if the transaction fails
_PENDING_DELETES = "media_deleted"  # session.info: directories to remove once it is committed
_HOOKED = "media_hooks"


def refusal_message(settings: Settings, reason: Refusal) -> str:
    """The sentence shown next to the photo field. Limits are said in the reader's language."""
    if reason is Refusal.too_large:
        megabytes = round(settings.max_upload_bytes / (1024 * 1024), 1)
        return gettext("This photo is too large: {limit} MB at most.", limit=format_number(megabytes))
    if reason is Refusal.too_many_pixels:
        megapixels = round(settings.max_image_pixels / 1_000_000, 1)
        return gettext("This photo has too many pixels: {limit} megapixels at most. Please send a smaller version.",
                       limit=format_number(megapixels))
    return _MESSAGES[reason]


def quota_message(settings: Settings) -> str:
    """The sentence for someone past their daily photo quota, in the reader's language."""
    return gettext("You have sent the most photos allowed in one day ({photos} photos or {megabytes} MB). "
                   "Your text is kept: save it without these photos, or add them later.",
                   photos=format_number(settings.photos_per_day),
                   megabytes=format_number(round(settings.photo_bytes_per_day / (1024 * 1024), 1)))


def charge_uploads(session: Session, settings: Settings, person: User, sizes: list[int]) -> None:
    """Count photos of `sizes` bytes, about to be decoded for `person`, towards their quota of
    `settings.photos_per_day` photos and `photo_bytes_per_day` bytes over the last 24 hours.

    Call it before decoding anything. Raises RateLimited (429, with the seconds until enough of
    the quota frees up and `quota_message`) when the batch would go past either limit; nothing
    is counted then. Moderators and administrators are not limited. The person's row is locked
    first (PostgreSQL; SQLite writers already take turns), so parallel uploads cannot all read
    the same total and pass together."""
    if not sizes or person.is_staff or person.id is None:
        return
    lock_user(session, person.id)
    since = utcnow() - QUOTA_WINDOW
    rows = session.exec(select(UploadCharge.size_bytes, UploadCharge.created_at).where(
        UploadCharge.user_id == person.id, col(UploadCharge.created_at) > since)
        .order_by(col(UploadCharge.created_at))).all()
    photos, total = len(rows) + len(sizes), sum(size for size, _at in rows) + sum(sizes)
    if photos > settings.photos_per_day or total > settings.photo_bytes_per_day:
        raise RateLimited(retry_after=_seconds_until_room(rows, settings, sizes), message=quota_message(settings))
    record_uploads(session, person, sizes)


def _seconds_until_room(rows: Any, settings: Settings, sizes: list[int]) -> int:
    """When enough of the oldest counted photos (`rows`, oldest first) leave the window for a
    batch of `sizes` to fit; a whole day if the batch alone is larger than the quota."""
    photos, total = len(rows) + len(sizes), sum(size for size, _at in rows) + sum(sizes)
    now = utcnow()
    for size, created_at in rows:
        photos, total = photos - 1, total - size
        if photos <= settings.photos_per_day and total <= settings.photo_bytes_per_day:
            return max(1, int((created_at + QUOTA_WINDOW - now).total_seconds()) + 1)
    return int(QUOTA_WINDOW.total_seconds())


def record_uploads(session: Session, person: User, sizes: list[int]) -> None:
    """Count photos that were decoded, without checking: after a form refused for another
    reason was rolled back, the work was done all the same (see `charge_uploads`)."""
    if person.id is None or person.is_staff:
        return
    session.add_all([UploadCharge(user_id=person.id, size_bytes=size) for size in sizes])
    session.flush()


def prune_charges(session: Session) -> int:
    """Forget counted photos older than the quota's window (the worker, hourly)."""
    result = session.execute(delete(UploadCharge).where(col(UploadCharge.created_at) < utcnow() - QUOTA_WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def store_image(session: Session, settings: Settings, *, data: bytes, owner_id: int | None,
                field: str = "photo", root: Path | None = None) -> MediaFile:
    """Validates and re-encodes `data`, writes its variants and adds (and flushes) its row.

    Raises ValidationFailed({field: message}) for every refusal; nothing is written then.
    Read uploads with `read_upload` so that a huge upload is never held in memory whole.
    `root` is the folder the files go to: `settings.media_dir` unless given (private files,
    such as the scans of paper ideas, go to `settings.private_media_dir`).
    """
    try:
        processed = images.process_image(data, max_bytes=settings.max_upload_bytes,
                                         max_pixels=settings.max_image_pixels)
    except ImageRejected as exc:
        raise ValidationFailed({field: refusal_message(settings, exc.reason)}) from exc

    key = secrets.token_hex(16)
    folder = (root or settings.media_dir) / key
    folder.mkdir(parents=True, exist_ok=False)
    _track(session, _PENDING_WRITES, folder)
    variants: dict[str, Any] = {}
    for name, variant in processed.variants.items():
        _write_atomically(folder / f"{name}.{processed.extension}", variant.data)
        variants[name] = {"width": variant.width, "height": variant.height,
                          "bytes": len(variant.data), "ext": processed.extension}
    media = MediaFile(key=key, owner_id=owner_id, content_type=processed.content_type,
                      width=processed.width, height=processed.height, size_bytes=len(data),
                      variants=variants)
    session.add(media)
    session.flush()
    return media


def read_upload(stream: Any, settings: Settings) -> bytes:
    """At most one byte more than the limit from a file-like object (e.g. `UploadFile.file`)."""
    data = stream.read(settings.max_upload_bytes + 1)
    return bytes(data or b"")


def variant_path(settings: Settings, media: MediaFile, variant: str, root: Path | None = None) -> Path:
    """Where a variant's file is (under `root`, `settings.media_dir` unless given); NotFound
    for an unknown variant."""
    info = media.variants.get(variant) if isinstance(media.variants, dict) else None
    if not isinstance(info, dict) or variant not in images.VARIANT_SIZES or not KEY_RE.match(media.key):
        raise NotFound()
    ext = info.get("ext")
    if ext not in CONTENT_TYPES:
        raise NotFound()
    return (root or settings.media_dir) / media.key / f"{variant}.{ext}"


def largest_file(settings: Settings, media: MediaFile) -> tuple[Path, str] | None:
    """The largest stored variant of `media` (the photo as kept: re-encoded, without its
    metadata) and its extension ("jpg", "webp"); None when its file is missing."""
    sizes = [name for name in images.VARIANT_SIZES if isinstance(media.variants, dict) and name in media.variants]
    for name in sizes:  # VARIANT_SIZES lists the largest first
        try:
            path = variant_path(settings, media, name)
        except NotFound:
            continue
        if path.is_file():
            return path, path.suffix.lstrip(".")
    return None


def file_response(settings: Settings, media: MediaFile, variant: str, *, public: bool,
                  root: Path | None = None) -> Response:
    """The variant's bytes, served so that no browser can take them for a page or a script.

    `public` says whether anyone may see it (then caches may keep it for a year: a key's
    content never changes); otherwise it is private to this visitor and never stored.
    Permission checks are the caller's job (authz), before calling this. `root`: as `store_image`.
    """
    path = variant_path(settings, media, variant, root)
    if not path.is_file():
        raise NotFound()
    ext = path.suffix.lstrip(".")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": MEDIA_CSP,
        "Cache-Control": PUBLIC_CACHE if public else PRIVATE_CACHE,
        # Public photos are open data that other sites may show; private ones stay on this origin.
        "Cross-Origin-Resource-Policy": "cross-origin" if public else "same-origin",
    }
    return FileResponse(path, media_type=CONTENT_TYPES[ext], headers=headers,
                        filename=f"{variant}.{ext}", content_disposition_type="inline")


def delete_media(session: Session, settings: Settings, media: MediaFile, root: Path | None = None) -> None:
    """Deletes the row now and the files (under `root`, as `store_image`) once the transaction
    is committed."""
    folder = (root or settings.media_dir) / media.key if KEY_RE.match(media.key) else None
    session.delete(media)
    session.flush()
    if folder is not None:
        if _autocommits(session):
            _remove_all([folder])  # the row is already gone for good
        else:
            _track(session, _PENDING_DELETES, folder)


def prune_orphans(session: Session, settings: Settings, *, older_than: timedelta = timedelta(hours=1)) -> int:
    """Removes media folders without a row, older than `older_than`; returns how many.

    The delay leaves alone files whose transaction is still running.
    """
    root = settings.media_dir
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    candidates = [p for p in root.iterdir() if p.is_dir() and KEY_RE.match(p.name) and p.stat().st_mtime < cutoff]
    removed = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start:start + 500]
        known = set(session.exec(select(MediaFile.key).where(
            MediaFile.key.in_([p.name for p in batch]))).all())  # type: ignore[attr-defined]
        for folder in batch:
            if folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _autocommits(session: OrmSession) -> bool:
    """Whether each statement commits on its own (the sessions tests use to arrange data)."""
    options = session.get_bind().get_execution_options()
    return bool(options.get("autocommit")) or options.get("isolation_level") == "AUTOCOMMIT"


def _track(session: Session, kind: str, folder: Path) -> None:
    if kind == _PENDING_WRITES and _autocommits(session):
        return  # the row is committed at flush: nothing to undo
    session.info.setdefault(kind, []).append(folder)
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_transaction_end", _after_transaction_end)


def _remove_all(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _after_commit(session: OrmSession) -> None:
    session.info.pop(_PENDING_WRITES, None)  # committed: the files are now referenced
    _remove_all(session.info.pop(_PENDING_DELETES, []))


def _after_transaction_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction decides
    # Reached with pending writes only when the transaction was not committed.
    _remove_all(session.info.pop(_PENDING_WRITES, []))
    session.info.pop(_PENDING_DELETES, None)

