"""Storing and serving photos: files on disk, rows, refusals as form errors, HTTP headers.

Uploads go through a small app that does what an upload route does (multipart file ->
read_upload -> store_image -> commit), so that the sender's file name and content type are
really offered to the platform, and shown to be ignored.
"""

import io
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI, File, UploadFile
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from app import handlers
from app.db import Database
from app.errors import NotFound, ValidationFailed
from app.i18n import LocaleMiddleware, language, translate
from app.media import service
from app.media.images import VARIANT_SIZES
from app.media.models import MediaFile
from app.security import SecurityHeadersMiddleware
from app.settings import Settings
from tests.factories import make_user
from tests.media import samples


def upload_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    handlers.install(app)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LocaleMiddleware)

    @app.post("/api/photos")
    def upload(photo: Annotated[UploadFile, File()]) -> dict[str, int | None]:
        with db.transaction() as session:
            media = service.store_image(session, settings, data=service.read_upload(photo.file, settings),
                                        owner_id=None)
        return {"id": media.id}

    @app.get("/api/photos/{media_id}/{variant}")
    def show(media_id: int, variant: str, public: bool = True) -> object:
        with db.session() as session:
            media = session.get(MediaFile, media_id)
            if media is None:
                raise NotFound()
            return service.file_response(settings, media, variant, public=public)

    return app


@pytest.fixture
def web(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(upload_app(settings, db)) as client:
        yield client


def tree(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.exists() else set()


def written_files(settings: Settings) -> list[Path]:
    return sorted(p for p in tree(settings.media_dir) if p.is_file())


# --- storing -----------------------------------------------------------------------------


def test_stored_variants_of_a_gps_jpeg_carry_no_metadata(session: Session, settings: Settings) -> None:
    owner = make_user(session)
    media = service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=owner.id)
    session.commit()

    row = session.exec(select(MediaFile)).one()
    assert row.id == media.id and row.owner_id == owner.id
    assert (row.width, row.height, row.content_type) == (640, 480, "image/jpeg")
    assert set(row.variants) == set(VARIANT_SIZES)
    files = written_files(settings)
    assert [p.relative_to(settings.media_dir).as_posix() for p in files] == sorted(
        f"{media.key}/{name}.jpg" for name in VARIANT_SIZES)
    for path in files:
        data = path.read_bytes()
        with Image.open(path) as image:
            image.load()
            assert image.format == "JPEG"
            assert not image.getexif()
            assert image.getexif().get_ifd(0x8825) == {}
            assert "exif" not in image.info and "xmp" not in image.info
            assert "comment" not in image.info and "icc_profile" not in image.info
            assert image.size == (row.variants[path.stem]["width"], row.variants[path.stem]["height"])
        assert row.variants[path.stem]["bytes"] == len(data)
        assert b"Exif" not in data
        for word in samples.SECRET_WORDS:
            assert word not in data


def test_portrait_photo_is_stored_upright(session: Session, settings: Settings) -> None:
    media = service.store_image(session, settings, data=samples.gps_jpeg(orientation=6), owner_id=None)
    assert (media.width, media.height) == (480, 640)
    with Image.open(settings.media_dir / service.variant_name(media, "display")[0]) as image:
        assert image.size == (480, 640)


@pytest.mark.parametrize(("data", "expected"), [
    (samples.png_bomb(), "Cette photo compte trop de pixels\u202f: 40 mégapixels au maximum."),
    (b"8BPS\x00\x01" + bytes(40), "Ce fichier n’est pas une photo dans un format accepté."),
    (b"<svg onload=alert(1)>", "Ce fichier n’est pas une photo dans un format accepté."),
    (b"%PDF-1.4\n%%EOF", "Ce fichier n’est pas une photo dans un format accepté."),
    (b"<html><script>alert(1)</script></html>", "Ce fichier n’est pas une photo dans un format accepté."),
    (samples.gps_jpeg()[:2000], "Cette photo n’a pas pu être lue"),
    (samples.animated("WEBP"), "Les images animées ne sont pas acceptées."),
    (b"", "Le fichier est vide."),
], ids=["bomb", "psd", "svg", "pdf", "html", "truncated", "animated", "empty"])
def test_refusals_are_form_errors_in_the_readers_language_and_write_nothing(
        session: Session, settings: Settings, data: bytes, expected: str) -> None:
    with language("fr"), pytest.raises(ValidationFailed) as caught:
        service.store_image(session, settings, data=data, owner_id=None)

    assert set(caught.value.errors) == {"photo"}
    with language("fr"):
        shown = translate("fr", caught.value.errors["photo"])
    assert shown.startswith(expected)
    assert written_files(settings) == []
    assert session.exec(select(MediaFile)).all() == []


def test_size_refusal_says_the_configured_limit(session: Session, settings: Settings) -> None:
    too_big = b"\xff\xd8\xff\xe0" + os.urandom(settings.max_upload_bytes)
    for lang, expected in (("fr", "10 Mo au maximum"), ("en", "10 MB at most"), ("nl", "10 MB"), ("de", "10 MB")):
        with language(lang), pytest.raises(ValidationFailed) as caught:
            service.store_image(session, settings, data=too_big, owner_id=None)
        assert expected in caught.value.errors["photo"]
    small = settings.model_copy(update={"max_upload_bytes": 1_572_864, "max_image_pixels": 2_500_000})
    with language("fr"), pytest.raises(ValidationFailed) as caught:
        service.store_image(session, small, data=too_big, owner_id=None)
    assert "1,5 Mo" in caught.value.errors["photo"]
    with language("fr"), pytest.raises(ValidationFailed) as caught:
        service.store_image(session, small, data=samples.encode(samples.picture((2000, 1300)), "PNG"), owner_id=None)
    assert "2,5 mégapixels" in caught.value.errors["photo"]
    assert written_files(settings) == []


def test_a_rolled_back_transaction_leaves_no_files(db: Database, settings: Settings) -> None:
    with db.session(write=True) as session:
        media = service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
        assert (settings.media_dir / service.variant_name(media, "thumb")[0]).is_file()
        session.rollback()
    assert written_files(settings) == []
    with db.session(write=True) as session:
        service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
        # closed without commit, as when a request fails
    assert written_files(settings) == []
    with db.session() as session:
        assert session.exec(select(MediaFile)).all() == []


def test_a_committed_transaction_keeps_its_files(db: Database, settings: Settings) -> None:
    with db.transaction() as session:
        media = service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    assert len(written_files(settings)) == len(VARIANT_SIZES)
    assert (settings.media_dir / service.variant_name(media, "display")[0]).is_file()


def test_delete_media_removes_files_once_committed(db: Database, settings: Settings) -> None:
    with db.transaction() as session:
        service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)

    with db.session(write=True) as session:
        service.delete_media(session, settings, session.exec(select(MediaFile)).one())
        assert len(written_files(settings)) == len(VARIANT_SIZES)
        session.rollback()  # the deletion did not happen: the files must stay
    assert len(written_files(settings)) == len(VARIANT_SIZES)

    with db.session(write=True) as session:
        service.delete_media(session, settings, session.exec(select(MediaFile)).one())
        session.commit()
    assert written_files(settings) == []
    with db.session() as session:
        assert session.exec(select(MediaFile)).all() == []


def test_prune_orphans_removes_only_old_unreferenced_folders(session: Session, settings: Settings) -> None:
    kept = service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    session.commit()
    old_orphan = settings.media_dir / ("a" * 32)
    fresh_orphan = settings.media_dir / ("b" * 32)
    not_ours = settings.media_dir / "README"
    for folder in (old_orphan, fresh_orphan, not_ours):
        folder.mkdir(parents=True)
        (folder / "display.jpg").write_bytes(b"x")
    long_ago = time.time() - 7200
    for folder in (old_orphan, not_ours, settings.media_dir / kept.key):
        os.utime(folder, (long_ago, long_ago))

    assert service.prune_orphans(session, settings, older_than=timedelta(hours=1)) == 1

    assert not old_orphan.exists()
    assert fresh_orphan.exists() and not_ours.exists()
    assert (settings.media_dir / service.variant_name(kept, "display")[0]).is_file()


# --- uploading and serving -----------------------------------------------------------------


@pytest.mark.parametrize("filename", ["../../app/main.py", "<svg onload=alert(1)>.png", "/etc/passwd",
                                      "..\\..\\evil.jpg", "photo.jpg\x00.html"])
def test_the_senders_file_name_is_harmless(web: TestClient, session: Session, settings: Settings,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str) -> None:
    # Work from a folder where "../../app/main.py" is a decoy that must stay untouched.
    decoy = tmp_path / "sandbox" / "app" / "main.py"
    decoy.parent.mkdir(parents=True)
    decoy.write_text("print('original')\n")
    workdir = tmp_path / "sandbox" / "a" / "b"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    outside_before = {p for p in tree(tmp_path) - tree(settings.media_dir) if ".sqlite3" not in p.name}
    png = samples.encode(samples.picture((320, 200)), "PNG")

    response = web.post("/api/photos", files={"photo": (filename, png, "text/html")})

    assert response.status_code == 200, response.text
    media = session.exec(select(MediaFile)).one()
    assert media.id == response.json()["id"]
    assert decoy.read_text() == "print('original')\n"
    assert {p for p in tree(tmp_path) - tree(settings.media_dir) if ".sqlite3" not in p.name} == outside_before
    files = written_files(settings)
    assert [p.relative_to(settings.media_dir).parts for p in files] == [
        (media.key, f"{name}.jpg") for name in sorted(VARIANT_SIZES)]
    assert len(media.key) == 32 and all(c in "0123456789abcdef" for c in media.key)
    # The name appears nowhere: not in the row, not in a path, not in the bytes, not in headers.
    needles = [filename.encode()] + [word for word in (b"main.py", b"onload", b"passwd", b"evil", b".html")
                                     if word in filename.encode()]
    assert not any(n.decode() in media.model_dump_json() for n in needles)
    for path in files:
        assert not any(n.decode() in str(path) for n in needles)
        assert not any(n in path.read_bytes() for n in needles)
    served = web.get(f"/api/photos/{media.id}/display")
    assert served.status_code == 200
    assert not any(n.decode() in str(served.headers) for n in needles)


@pytest.mark.parametrize(("filename", "payload"), [
    ("photo.jpg", b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03" + bytes(32)),
    ("photo.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("photo.jpg", b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF"),
    ("photo.jpg", b"<html><script>alert(1)</script></html>"),
], ids=["psd", "svg", "pdf", "html"])
def test_other_formats_renamed_jpg_are_refused_over_http(web: TestClient, session: Session,
                                                         settings: Settings, filename: str, payload: bytes) -> None:
    response = web.post("/api/photos", files={"photo": (filename, payload, "image/jpeg")},
                        headers={"Accept-Language": "fr"})

    assert response.status_code == 422
    assert response.json()["fields"]["photo"].startswith("Ce fichier n’est pas une photo")
    assert written_files(settings) == []
    assert session.exec(select(MediaFile)).all() == []


def test_an_oversized_upload_is_refused_over_http(web: TestClient, settings: Settings) -> None:
    body = samples.gps_jpeg() + bytes(settings.max_upload_bytes)
    response = web.post("/api/photos", files={"photo": ("big.jpg", body, "image/jpeg")},
                        headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.json()["fields"]["photo"] == "This photo is too large: 10 MB at most."
    assert written_files(settings) == []


def test_served_variants_have_a_fixed_type_and_cannot_become_a_page(web: TestClient, settings: Settings) -> None:
    polyglot = samples.png_with_text_chunk(b"<html><script>alert(1)</script></html>")
    media_id = web.post("/api/photos", files={"photo": ("x.html", polyglot, "text/html")}).json()["id"]

    for variant in VARIANT_SIZES:
        response = web.get(f"/api/photos/{media_id}/{variant}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"] == f'inline; filename="{variant}.jpg"'
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
        # A year in browsers; a minute in shared caches, which must see a hidden idea's photo go.
        assert response.headers["cache-control"] == "public, max-age=31536000, s-maxage=60, immutable"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert response.content.startswith(b"\xff\xd8\xff")
        assert b"<script" not in response.content and b"<html" not in response.content
        Image.open(io.BytesIO(response.content)).verify()

    private = web.get(f"/api/photos/{media_id}/thumb", params={"public": "false"})
    assert private.headers["cache-control"] == "private, no-store"
    assert private.headers["cross-origin-resource-policy"] == "same-origin"
    assert private.headers["content-type"] == "image/jpeg"


def test_unknown_variants_and_missing_files_are_404(web: TestClient, session: Session, settings: Settings) -> None:
    media = service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    session.commit()

    for variant in ("original", "../display", "display.jpg", "DISPLAY"):
        with pytest.raises(NotFound):
            service.variant_name(media, variant)
    assert web.get(f"/api/photos/{media.id}/original").status_code == 404

    (settings.media_dir / service.variant_name(media, "card")[0]).unlink()
    response = web.get(f"/api/photos/{media.id}/card")
    assert response.status_code == 404
    assert "image" not in response.headers["content-type"]
    tampered = MediaFile(key="../../app", content_type="text/html", width=1, height=1, size_bytes=1,
                         variants={"display": {"ext": "py", "width": 1, "height": 1, "bytes": 1}})
    with pytest.raises(NotFound):
        service.variant_name(tampered, "display")
