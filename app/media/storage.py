"""Where uploaded files are kept: folders under DATA_DIR (the default: one machine, no other
server) or an S3-compatible object store (several machines: every web process and worker reads
what another wrote).

Files are kept in three areas, each its own folder or its own prefix in the bucket:
- `PUBLIC_MEDIA` ("media"): the variants of photos and covers (`<key>/<variant>.<ext>`);
- `PRIVATE_MEDIA` ("private_media"): staff-only files, the scans of paper ideas (app.intake);
- `IMPORTS` ("imports"): spreadsheets waiting for their import's confirmation (app.intake.sheets).

Nothing in the bucket is public: no object is written with a public ACL, and every file is
served by the platform after its own access checks (app.media.service.file_response), so a
hidden idea's photo is as unreachable on S3 as in a folder. Names are made by the platform (random
keys, digests), never by a sender; `check_name` refuses anything else before a path or an object
key is built from it.

The S3 backend uses boto3 (the AWS SDK, which speaks to any S3 implementation: Ceph's RADOS
Gateway, MinIO, Garage, a cloud's); its requests are signed (Signature Version 4) and time out
after `Settings.s3_timeout_seconds`.
"""

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from app.errors import AppError
from app.i18n import N_
from app.settings import Settings

PUBLIC_MEDIA = "media"
PRIVATE_MEDIA = "private_media"
IMPORTS = "imports"
AREAS = (PUBLIC_MEDIA, PRIVATE_MEDIA, IMPORTS)

# One or two parts: a folder made of letters, digits, '-' or '_', and a file name that may also
# hold dots (never two in a row, never first): no '..', no absolute path, no empty part.
_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)?$")


class StorageError(AppError):
    """The storage could not be read or written (a full disk, an unreachable or refusing S3).

    A 503 for the visitor, with a sentence in their language; `detail` (area, operation, the
    store's error code: never a key or a secret) is for the logs."""

    status_code = 503
    default_message = N_("Photos and files cannot be stored or read at the moment. Nothing was saved: "
                         "please go back and try again in a few minutes.")

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


def check_name(name: str) -> str:
    """`name` itself when it is a name this module accepts ("<folder>" or "<folder>/<file>",
    letters, digits, '-', '_' and inner dots); ValueError otherwise."""
    if not _NAME.match(name):
        raise ValueError(f"not a storage name: {name!r}")
    return name


class Storage(Protocol):
    """One area of the storage. Names are `check_name`'d; a folder is a name's first part."""

    area: str

    def put(self, name: str, data: bytes) -> None:
        """Write `data` under `name`, whole or not at all (readers never see half a file).
        Raises StorageError."""

    def get(self, name: str) -> bytes | None:
        """The bytes under `name`, or None when there are none. Raises StorageError."""

    def delete(self, folder: str) -> None:
        """Remove `folder` and everything in it, or the file of that name; nothing if absent.
        Raises StorageError."""

    def stale(self, older_than_seconds: float) -> Iterator[str]:
        """The top-level names (folders or files) last written more than `older_than_seconds`
        ago, for the pruning jobs. Raises StorageError."""

    def check(self) -> None:
        """Raise StorageError unless a file can be written and removed now (readiness)."""


class FolderStorage:
    """An area as a folder on this machine: `<DATA_DIR>/<area>/<name>`."""

    def __init__(self, root: Path, area: str) -> None:
        self.root = root
        self.area = area

    def path(self, name: str) -> Path:
        """The file's path (for a caller that streams it from disk)."""
        return self.root / check_name(name)

    def put(self, name: str, data: bytes) -> None:
        path = self.path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
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
        except OSError as exc:
            raise StorageError(f"{self.area}: {exc.strerror or exc}") from exc

    def get(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"{self.area}: {exc.strerror or exc}") from exc

    def delete(self, folder: str) -> None:
        path = self.path(folder)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def stale(self, older_than_seconds: float) -> Iterator[str]:
        if not self.root.is_dir():
            return
        cutoff = time.time() - older_than_seconds
        for entry in self.root.iterdir():
            if _NAME.match(entry.name) and entry.stat().st_mtime < cutoff:
                yield entry.name

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-"):
                pass
        except OSError as exc:
            raise StorageError(f"{self.area}: the folder takes no file ({exc.strerror or exc})") from exc


class S3Storage:
    """An area as the prefix `<area>/` in the configured bucket of an S3-compatible store."""

    def __init__(self, client: Any, bucket: str, area: str) -> None:
        self.client = client
        self.bucket = bucket
        self.area = area

    def _key(self, name: str) -> str:
        return f"{self.area}/{check_name(name)}"

    def _call(self, operation: str, **kwargs: Any) -> Any:
        # botocore is loaded only where S3 is configured (a cached module after the first call).
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key", "")) from exc
            raise StorageError(f"{self.area}: S3 {operation} refused ({code or 'error'})") from exc
        except BotoCoreError as exc:
            raise StorageError(f"{self.area}: S3 {operation} failed ({type(exc).__name__})") from exc

    def put(self, name: str, data: bytes) -> None:
        # One PUT is atomic on S3: a reader gets the old object, none, or the whole new one.
        self._call("put_object", Key=self._key(name), Body=data)

    def get(self, name: str) -> bytes | None:
        try:
            answer = self._call("get_object", Key=self._key(name))
        except FileNotFoundError:
            return None
        try:
            return bytes(answer["Body"].read())
        except Exception as exc:  # noqa: BLE001 - a connection cut mid-body, whatever its class
            raise StorageError(f"{self.area}: S3 read cut short ({type(exc).__name__})") from exc

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **({"ContinuationToken": token} if token else {}))
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def delete(self, folder: str) -> None:
        key = self._key(folder)
        keys = [key, *(item["Key"] for item in self._objects(key + "/"))]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            self._call("delete_objects", Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]],
                                                 "Quiet": True})

    def stale(self, older_than_seconds: float) -> Iterator[str]:
        cutoff = time.time() - older_than_seconds
        newest: dict[str, float] = {}
        for item in self._objects(self.area + "/"):
            top = item["Key"][len(self.area) + 1:].split("/", 1)[0]
            newest[top] = max(newest.get(top, 0.0), item["LastModified"].timestamp())
        yield from (top for top, written in newest.items() if written < cutoff and _NAME.match(top))

    def check(self) -> None:
        name = f".ready-{os.getpid()}"
        self._call("put_object", Key=f"{self.area}/{name}", Body=b"")
        self._call("delete_object", Key=f"{self.area}/{name}")


def storage(settings: Settings, area: str) -> Storage:
    """The storage of `area` (one of `AREAS`) as `settings` configure it: S3 when
    `s3_endpoint_url` is set, else the folder `<DATA_DIR>/<area>`."""
    if area not in AREAS:
        raise ValueError(f"unknown storage area {area!r}")
    if settings.s3_endpoint_url:
        return S3Storage(_client(settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id,
                                 settings.s3_secret_access_key.get_secret_value(), settings.s3_timeout_seconds),
                         settings.s3_bucket, area)
    folders = {PUBLIC_MEDIA: settings.media_dir, PRIVATE_MEDIA: settings.private_media_dir,
               IMPORTS: settings.imports_dir}
    return FolderStorage(folders[area], area)


@lru_cache(maxsize=4)
def _client(endpoint_url: str, region: str, access_key_id: str, secret: str, timeout: float) -> Any:
    """One boto3 client per configuration and process (clients are thread-safe; made once, as
    their setup reads the SDK's service models, about 50 ms). boto3 is imported only here, so
    a platform without S3 never loads it."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                      connect_timeout=timeout, read_timeout=timeout,
                                      retries={"max_attempts": 3, "mode": "standard"}))
