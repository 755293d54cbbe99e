"""Storing, serving and deleting uploaded images.

Files are kept by `app.media.storage` (a folder under DATA_DIR, or an S3-compatible bucket) as
`<key>/<variant>.<ext>`, where `key` is 32 random hex characters made here: nothing the sender
chose (file name, content type) is ever used for a name or a header.

Files and rows: variants are written before the row is flushed, inside the caller's
transaction. If that transaction is rolled back (e.g. another field of the form was invalid),
the files written for it are removed when it ends. If the process dies in between, the files
are orphans: harmless, since nothing links to them and no URL can reach them without a row;
`prune_orphans` removes them. `delete_media` removes the files only once the deletion is
committed.
"""

import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from fastapi.responses import Response
from sqlalchemy import delete, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from app.account.models import User
from app.clock import utcnow
from app.errors import NotFound, RateLimited, ValidationFailed
from app.i18n import N_, format_number, gettext, ngettext
from app.locks import lock_user
from app.media import images, sandbox
from app.media.images import ImageRejected, Refusal
from app.media.models import MediaFile, UploadCharge
from app.media.storage import PUBLIC_MEDIA, Storage, StorageError, storage
from app.settings import Settings

log = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
# Served types come from this table, keyed by the extension the pipeline chose: never from input.
CONTENT_TYPES = {"jpg": "image/jpeg", "webp": "image/webp"}
# A key's bytes never change (keys are never reused): browsers keep a photo a year. Shared caches
# (a city's CDN, a proxy) only a minute (`s-maxage`, RFC 9111 section 5.2.2.10): a photo is
# public only while its idea is, and once a moderator hides the idea, the CDN must ask again and
# get the 404 within that minute, not serve the photo to everyone for a year.
PUBLIC_CACHE = "public, max-age=31536000, s-maxage=60, immutable"
PRIVATE_CACHE = "private, no-store"
MEDIA_CSP = "default-src 'none'; sandbox"

_MESSAGES = {
    Refusal.empty: N_("The file is empty. Please choose a photo."),
    Refusal.unsupported: N_("This file is not a photo in an accepted format. Please send a JPEG, PNG or WebP image."),
    Refusal.animated: N_("Animated images are not accepted. Please send a still photo."),
    Refusal.corrupt: N_("This photo could not be read: the file seems damaged or incomplete. Please try another one."),
}

QUOTA_WINDOW = timedelta(days=1)

_PENDING_WRITES = "media_written"  # session.info: (storage, key) to remove if the transaction fails
_PENDING_DELETES = "media_deleted"  # session.info: (storage, key) to remove once it is committed
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
    return ngettext("You have sent the most photos allowed in one day ({photos} photo or {megabytes} MB). "
                    "Your text is kept: save it without these photos, or add them later.",
                    "You have sent the most photos allowed in one day ({photos} photos or {megabytes} MB). "
                    "Your text is kept: save it without these photos, or add them later.",
                    settings.photos_per_day, photos=format_number(settings.photos_per_day),
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


def sandbox_limits(settings: Settings) -> sandbox.Limits:
    """What one photo's child process may use (Settings.photo_sandbox_*)."""
    return sandbox.Limits(memory_bytes=settings.photo_sandbox_memory_mb * 1024 * 1024,
                          cpu_seconds=settings.photo_sandbox_cpu_seconds,
                          timeout_seconds=settings.photo_sandbox_timeout_seconds)


def store_image(session: Session, settings: Settings, *, data: bytes, owner_id: int | None,
                field: str = "photo", area: str = PUBLIC_MEDIA) -> MediaFile:
    """Validates and re-encodes `data` in a child process (app.media.sandbox: the request waits
    for it), writes its variants and adds (and flushes) its row.

    Raises ValidationFailed({field: message}) for every refusal, a child past its limits or
    killed included ("could not be read"); nothing is written then.
    Raises StorageError when the storage takes no file (the caller's transaction then rolls
    back, and the variants already written are removed). Read uploads with `read_upload` so
    that a huge upload is never held in memory whole. `area` is where the files go
    (`app.media.storage`): public media unless given (the scans of paper ideas are private).
    """
    try:
        processed = sandbox.process_image(data, max_bytes=settings.max_upload_bytes,
                                          max_pixels=settings.max_image_pixels, limits=sandbox_limits(settings))
    except ImageRejected as exc:
        raise ValidationFailed({field: refusal_message(settings, exc.reason)}) from exc

    key = secrets.token_hex(16)
    store = storage(settings, area)
    _track(session, _PENDING_WRITES, store, key)
    variants: dict[str, Any] = {}
    for name, variant in processed.variants.items():
        store.put(f"{key}/{name}.{processed.extension}", variant.data)
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


def variant_name(media: MediaFile, variant: str) -> tuple[str, str]:
    """(storage name, extension) of a variant of `media`: ("<key>/<variant>.<ext>", "jpg").
    NotFound for an unknown variant or a row that names no valid file."""
    info = media.variants.get(variant) if isinstance(media.variants, dict) else None
    if not isinstance(info, dict) or variant not in images.VARIANT_SIZES or not KEY_RE.match(media.key):
        raise NotFound()
    ext = info.get("ext")
    if ext not in CONTENT_TYPES:
        raise NotFound()
    return f"{media.key}/{variant}.{ext}", ext


def variant_bytes(settings: Settings, media: MediaFile, variant: str, area: str = PUBLIC_MEDIA) -> tuple[bytes, str]:
    """(bytes, extension) of a stored variant. NotFound when the variant or its file is
    missing; StorageError when the storage does not answer."""
    name, ext = variant_name(media, variant)
    data = storage(settings, area).get(name)
    if data is None:
        raise NotFound()
    return data, ext


def largest_file(settings: Settings, media: MediaFile) -> tuple[bytes, str] | None:
    """The largest stored variant of `media` (the photo as kept: re-encoded, without its
    metadata) as (bytes, extension "jpg" or "webp"); None when no file of it is stored."""
    sizes = [name for name in images.VARIANT_SIZES if isinstance(media.variants, dict) and name in media.variants]
    for name in sizes:  # VARIANT_SIZES lists the largest first
        try:
            return variant_bytes(settings, media, name)
        except NotFound:
            continue
    return None


def file_response(settings: Settings, media: MediaFile, variant: str, *, public: bool,
                  area: str = PUBLIC_MEDIA) -> Response:
    """The variant's bytes, served so that no browser can take them for a page or a script.

    `public` says whether anyone may see it (then caches may keep it for a year: a key's
    content never changes); otherwise it is private to this visitor and never stored.
    Permission checks are the caller's job (authz), before calling this. `area`: as
    `store_image`. NotFound when the file is missing; a storage that does not answer is a 503.
    """
    try:
        data, ext = variant_bytes(settings, media, variant, area)
    except StorageError as exc:
        log.warning("media %s: storage unavailable: %s", media.id, exc)
        return Response(status_code=503, headers={"Retry-After": "30", "Cache-Control": PRIVATE_CACHE})
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": MEDIA_CSP,
        "Cache-Control": PUBLIC_CACHE if public else PRIVATE_CACHE,
        # Public photos are open data that other sites may show; private ones stay on this origin.
        "Cross-Origin-Resource-Policy": "cross-origin" if public else "same-origin",
        "Content-Disposition": f'inline; filename="{variant}.{ext}"',
    }
    return Response(data, media_type=CONTENT_TYPES[ext], headers=headers)


def delete_media(session: Session, settings: Settings, media: MediaFile, area: str = PUBLIC_MEDIA) -> None:
    """Deletes the row now and the files (in `area`, as `store_image`) once the transaction
    is committed."""
    key = media.key if KEY_RE.match(media.key) else None
    session.delete(media)
    session.flush()
    if key is not None:
        store = storage(settings, area)
        if _autocommits(session):
            _remove_all([(store, key)])  # the row is already gone for good
        else:
            _track(session, _PENDING_DELETES, store, key)


def prune_orphans(session: Session, settings: Settings, *, older_than: timedelta = timedelta(hours=1),
                  area: str = PUBLIC_MEDIA) -> int:
    """Removes stored media folders (in `area`) without a row, older than `older_than`;
    returns how many. The delay leaves alone files whose transaction is still running."""
    store = storage(settings, area)
    candidates = [key for key in store.stale(older_than.total_seconds()) if KEY_RE.match(key)]
    removed = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start:start + 500]
        known = set(session.exec(select(MediaFile.key).where(
            MediaFile.key.in_(batch))).all())  # type: ignore[attr-defined]
        for key in batch:
            if key not in known:
                store.delete(key)
                removed += 1
    return removed


def _autocommits(session: OrmSession) -> bool:
    """Whether each statement commits on its own (the sessions tests use to arrange data)."""
    options = session.get_bind().get_execution_options()
    return bool(options.get("autocommit")) or options.get("isolation_level") == "AUTOCOMMIT"


def _track(session: Session, kind: str, store: Storage, key: str) -> None:
    if kind == _PENDING_WRITES and _autocommits(session):
        return  # the row is committed at flush: nothing to undo
    session.info.setdefault(kind, []).append((store, key))
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_transaction_end", _after_transaction_end)


def _remove_all(entries: list[tuple[Storage, str]]) -> None:
    for store, key in entries:
        try:
            store.delete(key)
        except StorageError as exc:  # left as an orphan: prune_orphans removes it later
            log.warning("media %s: not removed from %s: %s", key, store.area, exc)


def _after_commit(session: OrmSession) -> None:
    session.info.pop(_PENDING_WRITES, None)  # committed: the files are now referenced
    _remove_all(session.info.pop(_PENDING_DELETES, []))


def _after_transaction_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction decides
    # Reached with pending writes only when the transaction was not committed.
    _remove_all(session.info.pop(_PENDING_WRITES, []))
    session.info.pop(_PENDING_DELETES, None)
