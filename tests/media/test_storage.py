"""The storage of uploaded files (issue 14): one contract run against the local folders and
against a real S3 gateway (Ceph's radosgw, tests.support_s3), and the platform on S3 as users
see it: photos served after the same checks, a hidden idea's photo unreachable, nothing in the
bucket readable without a signature, an import previewed on one machine and confirmed on
another, and a storage out of reach answered with a clear message that changes nothing."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from app.account.models import Role
from app.idea.models import Idea, IdeaPhoto
from app.intake.models import IdeaIntake
from app.main import create_app
from app.media import service as media_service
from app.media import storage as media_storage
from app.media.models import MediaFile
from app.media.storage import IMPORTS, PRIVATE_MEDIA, PUBLIC_MEDIA, Storage, StorageError
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_user
from tests.idea.helpers import png
from tests.intake.test_entry import _enter
from tests.intake.test_import import _confirm_form, _csv, _rows, _upload
from tests.media.samples import gps_jpeg
from tests.support import WebClient, free_port, make_settings
from tests.support_s3 import S3Gateway

pytestmark = pytest.mark.xdist_group("s3")  # one gateway for all: they run on one worker

BODY = "Un abri couvert pour les vélos, avec des arceaux et un éclairage la nuit."


def _s3(settings: Settings, gateway: S3Gateway, bucket: str, **overrides: Any) -> Settings:
    values = {"s3_endpoint_url": gateway.endpoint, "s3_bucket": bucket, "s3_access_key_id": gateway.access_key_id,
              "s3_secret_access_key": gateway.secret_access_key, **overrides}
    return make_settings(settings.data_dir, settings.resolved_database_url, **values)


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Storage]:
    """The public media area on each backend."""
    if request.param == "folder":
        yield media_storage.storage(settings, PUBLIC_MEDIA)
        return
    gateway: S3Gateway = request.getfixturevalue("s3_gateway")
    yield media_storage.storage(_s3(settings, gateway, gateway.new_bucket()), PUBLIC_MEDIA)


# --- the contract, on both backends ------------------------------------------------------------


def test_a_file_reads_back_whole_and_is_replaced_whole(store: Storage) -> None:
    assert store.get("0123abcd/display.jpg") is None
    store.put("0123abcd/display.jpg", b"\xff\xd8first")
    store.put("0123abcd/thumb.jpg", b"\xff\xd8thumb")
    assert store.get("0123abcd/display.jpg") == b"\xff\xd8first"
    store.put("0123abcd/display.jpg", b"\xff\xd8second, longer")
    assert store.get("0123abcd/display.jpg") == b"\xff\xd8second, longer"
    assert store.get("0123abcd/card.jpg") is None
    store.check()  # ready


def test_deleting_a_folder_removes_its_files_and_nothing_else(store: Storage) -> None:
    for name in ("aaaa/display.jpg", "aaaa/thumb.jpg", "aaab/display.jpg", "aaaa.sheet"):
        store.put(name, name.encode())
    store.delete("aaaa")
    assert store.get("aaaa/display.jpg") is None and store.get("aaaa/thumb.jpg") is None
    assert store.get("aaab/display.jpg") == b"aaab/display.jpg" and store.get("aaaa.sheet") == b"aaaa.sheet"
    store.delete("aaaa.sheet")
    assert store.get("aaaa.sheet") is None
    store.delete("never-written")  # nothing to do, no error


def test_stale_names_the_top_level_entries_by_age(store: Storage) -> None:
    store.put("bbbb/display.jpg", b"x")
    store.put("cccc.sheet", b"y")
    assert sorted(store.stale(-3600)) == ["bbbb", "cccc.sheet"]  # all older than an hour from now
    assert list(store.stale(3600)) == []  # nothing was written an hour ago


@pytest.mark.parametrize("name", ["../secret", "/etc/passwd", "a/../b", "a//b", "", "a/b/c", ".hidden", "a/.."])
def test_names_not_made_by_the_platform_are_refused_before_any_write(store: Storage, name: str) -> None:
    with pytest.raises(ValueError, match="not a storage name"):
        store.put(name, b"x")
    with pytest.raises(ValueError, match="not a storage name"):
        store.get(name)


def test_areas_are_apart(settings: Settings, s3_gateway: S3Gateway) -> None:
    for configured in (settings, _s3(settings, s3_gateway, s3_gateway.new_bucket())):
        media_storage.storage(configured, PRIVATE_MEDIA).put("dddd/display.jpg", b"scan")
        assert media_storage.storage(configured, PUBLIC_MEDIA).get("dddd/display.jpg") is None
        assert media_storage.storage(configured, IMPORTS).get("dddd/display.jpg") is None


# --- what only S3 can get wrong ----------------------------------------------------------------


def test_the_gateway_checks_signatures_and_serves_nothing_to_strangers(settings: Settings,
                                                                       s3_gateway: S3Gateway) -> None:
    bucket = s3_gateway.new_bucket()
    media_storage.storage(_s3(settings, s3_gateway, bucket), PUBLIC_MEDIA).put("eeee/display.jpg", b"photo")
    assert httpx.get(f"{s3_gateway.endpoint}/{bucket}/media/eeee/display.jpg").status_code == 403
    wrong = media_storage.storage(_s3(settings, s3_gateway, bucket, s3_secret_access_key="not-the-secret"),
                                  PUBLIC_MEDIA)
    with pytest.raises(StorageError) as refused:
        wrong.get("eeee/display.jpg")
    assert "SignatureDoesNotMatch" in str(refused.value) and "not-the-secret" not in str(refused.value)


def test_a_missing_bucket_or_an_unreachable_store_is_a_storage_error(settings: Settings,
                                                                      s3_gateway: S3Gateway) -> None:
    missing = media_storage.storage(_s3(settings, s3_gateway, "no-such-bucket-here"), PUBLIC_MEDIA)
    with pytest.raises(StorageError):
        missing.check()
    closed = f"http://127.0.0.1:{free_port()}"
    away = media_storage.storage(_s3(settings, s3_gateway, "any", s3_endpoint_url=closed, s3_timeout_seconds=1.0),
                                 PUBLIC_MEDIA)
    with pytest.raises(StorageError):
        away.put("ffff/display.jpg", b"x")


def test_s3_settings_must_be_complete(settings: Settings) -> None:
    with pytest.raises(ValueError, match="REINVENTONS_S3_BUCKET"):
        make_settings(settings.data_dir, settings.resolved_database_url, s3_endpoint_url="https://s3.example.org")


# --- the platform on S3, as people see it ------------------------------------------------------


@pytest.fixture
def on_s3(settings: Settings, s3_gateway: S3Gateway) -> Iterator[tuple[WebClient, str]]:
    """A platform keeping its files in a new bucket of the real gateway, and that bucket."""
    bucket = s3_gateway.new_bucket()
    with WebClient(create_app(_s3(settings, s3_gateway, bucket)), base_url="http://testserver") as web:
        yield web, bucket


def test_a_photo_lives_in_the_bucket_and_disappears_with_its_hidden_idea(
        on_s3: tuple[WebClient, str], s3_gateway: S3Gateway, session: Session, tmp_path: Path) -> None:
    web, bucket = on_s3
    call = make_call(session)
    author, moderator = make_user(session), make_user(session, role=Role.moderator)
    session.commit()
    web.login_as(author)
    sent = web.submit(f"/calls/{call.slug}/ideas/new",
                      {"title": "Un abri vélo rue Saint-Gilles", "body_md": BODY, "alt_photo_1": "L'abri",
                       "action": "submit"}, files={"photo_1": ("abri.png", png(), "image/png")})
    assert sent.status_code == 303, sent.text[:500]
    idea = session.exec(select(Idea)).one()
    photo = session.exec(select(IdeaPhoto)).one()
    media = session.get(MediaFile, photo.media_id)
    assert media is not None
    stored = sorted(o["Key"] for o in s3_gateway.client().list_objects_v2(Bucket=bucket)["Contents"])
    assert f"media/{media.key}/display.jpg" in stored
    assert not any((tmp_path / "var" / "media").rglob("*.jpg"))  # nothing on this machine's disk

    web.cookies.clear()
    shown = web.get(f"/ideas/{idea.id}/photos/{photo.id}/display")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.content[:2] == b"\xff\xd8"
    assert httpx.get(f"{s3_gateway.endpoint}/{bucket}/media/{media.key}/display.jpg").status_code == 403

    web.login_as(moderator)
    assert web.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Hors charte"}).status_code == 303
    web.cookies.clear()
    assert web.get(f"/ideas/{idea.id}/photos/{photo.id}/display").status_code == 404
    assert httpx.get(f"{s3_gateway.endpoint}/{bucket}/media/{media.key}/display.jpg").status_code == 403


def test_the_scan_of_a_paper_idea_goes_to_the_private_area(on_s3: tuple[WebClient, str], s3_gateway: S3Gateway,
                                                           session: Session) -> None:
    web, bucket = on_s3
    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    web.login_as(moderator)
    sent = _enter(web, call.id or 0, scan=gps_jpeg())
    assert sent.status_code == 303, sent.text[:500]
    intake = session.exec(select(IdeaIntake)).one()
    scan = session.get(MediaFile, intake.scan_media_id)
    assert scan is not None
    stored = [o["Key"] for o in s3_gateway.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.startswith(f"private_media/{scan.key}/") for key in stored)
    assert not any(key.startswith(f"media/{scan.key}/") for key in stored)


def test_a_storage_out_of_reach_says_so_and_keeps_nothing(settings: Settings, s3_gateway: S3Gateway,
                                                          session: Session) -> None:
    away = _s3(settings, s3_gateway, "any", s3_endpoint_url=f"http://127.0.0.1:{free_port()}", s3_timeout_seconds=1.0)
    call = make_call(session)
    author = make_user(session)
    session.commit()
    with WebClient(create_app(away), base_url="http://testserver") as web:
        web.login_as(author)
        sent = web.submit(f"/calls/{call.slug}/ideas/new",
                          {"title": "Un abri vélo rue Saint-Gilles", "body_md": BODY, "alt_photo_1": "L'abri",
                           "action": "submit"}, files={"photo_1": ("abri.png", png(), "image/png")},
                          headers={"Accept-Language": "fr"})
        assert sent.status_code == 503
        assert "ne peuvent pas être enregistrés" in sent.text and "127.0.0.1" not in sent.text
        assert session.exec(select(Idea)).all() == [] and session.exec(select(MediaFile)).all() == []
        ready = web.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "unavailable"


def test_an_import_previewed_on_one_machine_is_confirmed_on_another(
        settings: Settings, s3_gateway: S3Gateway, session: Session, tmp_path: Path) -> None:
    bucket = s3_gateway.new_bucket()
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    theme, district = make_category(session, call, name="Mobilité douce"), make_district(session, name="Outremeuse")
    session.commit()
    machines = [_s3(settings, s3_gateway, bucket).model_copy(update={"data_dir": tmp_path / f"machine{n}"})
                for n in (1, 2)]
    with WebClient(create_app(machines[0]), base_url="http://testserver") as first, \
            WebClient(create_app(machines[1]), base_url="http://testserver") as second:
        first.login_as(moderator)
        preview = _upload(first, call.id or 0, _csv(_rows(call, theme.name, district.name)))
        assert preview.status_code == 200 and "17 idées seront créées." in preview.text
        action, expected = _confirm_form(preview.text)
        second.cookies = first.cookies  # the same browser; the balancer sent it to the other machine
        assert second.submit(action, {"expected": expected}).status_code == 303
    assert len(session.exec(select(Idea)).all()) == 17
    left = s3_gateway.client().list_objects_v2(Bucket=bucket, Prefix="imports/").get("Contents", [])
    assert left == []  # the kept file is forgotten once imported


def test_orphans_are_pruned_in_both_media_areas_and_kept_files_stay(
        settings: Settings, s3_gateway: S3Gateway, session: Session) -> None:
    for configured in (settings, _s3(settings, s3_gateway, s3_gateway.new_bucket())):
        for area in (PUBLIC_MEDIA, PRIVATE_MEDIA):
            kept = media_service.store_image(session, configured, data=png(), owner_id=None, area=area)
            orphan = uuid.uuid4().hex  # files whose row was never committed (a process that died)
            media_storage.storage(configured, area).put(f"{orphan}/display.jpg", b"\xff\xd8")
            # Everything counts as old here (an hour from now): only the row decides.
            assert media_service.prune_orphans(session, configured, older_than=timedelta(hours=-1), area=area) == 1
            store = media_storage.storage(configured, area)
            assert store.get(f"{orphan}/display.jpg") is None
            assert store.get(media_service.variant_name(kept, "display")[0]) is not None
