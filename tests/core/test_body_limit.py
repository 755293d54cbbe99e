"""Requests over the body limit (issue 10, defect 15): two ordinary phone photos got a bare
English text/plain "Content Too Large" and the typed idea was lost, while the form promised 10 MB
per photo and offered 4. The limit now holds what the form offers, and a larger request gets the
413 page in the visitor's language and the site's layout (JSON under /api/)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, func, select

from app.idea.models import Idea
from app.settings import FORM_TEXT_BYTES, MIB, PHOTOS_PER_IDEA, Settings
from tests.factories import make_call, make_user
from tests.support import WebClient, make_settings

BODY = "Des bancs à l'ombre le long de la Meuse, pour les personnes âgées et les familles."


def _ideas(session: Session) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(Idea)).one())


def test_the_limit_holds_every_photo_the_form_offers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite://")
    assert settings.max_upload_bytes == 10 * MIB
    assert settings.max_body_bytes == PHOTOS_PER_IDEA * settings.max_upload_bytes + FORM_TEXT_BYTES
    smaller = make_settings(tmp_path, "sqlite://", max_upload_bytes=3 * MIB)
    assert smaller.max_body_bytes == PHOTOS_PER_IDEA * 3 * MIB + FORM_TEXT_BYTES
    with pytest.raises(ValidationError, match="MAX_BODY_BYTES"):
        Settings(data_dir=tmp_path, max_body_bytes=12 * MIB)  # what used to be the default


def test_the_form_says_the_limits_the_server_applies(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    page = client.get(f"/calls/{call.slug}/ideas/new").text
    assert "10 Mo au maximum chacune" in page
    assert f'data-max-file-bytes="{10 * MIB}"' in page
    assert f'data-max-total-bytes="{client.settings.max_body_bytes - FORM_TEXT_BYTES}"' in page
    assert '<script src="/static/js/upload-limit.js" defer></script>' in page
    assert "Cette photo est trop lourde\u202f: 10 Mo au maximum." in page  # what the script says


def test_two_phone_photos_are_not_refused_wholesale(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    # Two 7 MB files (not real pictures): more than the old 12 MB limit, within what the form offers.
    photo = b"\xff\xd8\xff\xe0" + bytes(7 * MIB)
    response = client.post(f"/calls/{call.slug}/ideas/new",
                           data={"csrf_token": client.csrf(), "title": "Des bancs au bord de l'eau",
                                 "body_md": BODY, "action": "submit", "alt_photo_1": "Un banc",
                                 "alt_photo_2": "Un autre"},
                           files={"photo_1": ("a.jpg", photo, "image/jpeg"), "photo_2": ("b.jpg", photo, "image/jpeg")})
    # Each photo is judged on its own, and what was typed comes back in the form.
    assert response.status_code == 422
    assert "Des bancs au bord de l&#39;eau" in response.text and "Un autre" in response.text
    assert _ideas(session) == 0


@pytest.fixture
def too_big(client: WebClient) -> Iterator[bytes]:
    yield b"x" * (client.settings.max_body_bytes + 1)


def test_an_announced_oversized_request_gets_the_translated_page_in_the_layout(
        client: WebClient, session: Session, too_big: bytes) -> None:
    call = make_call(session)
    client.login_as(make_user(session, display_name="Sofia Ricci"))
    session.commit()
    for lang, words in (("fr", "Ce que vous avez envoyé est trop lourd\u202f: 41 Mo au maximum, soit 4 photos de "
                               "10 Mo"),
                        ("de", "Was Sie gesendet haben, ist zu groß: höchstens 41 MB, also 4 Fotos mit je 10 MB"),
                        ("en", "What you sent is too large: 41 MB at most, that is 4 photos of 10 MB each")):
        response = client.post(f"/calls/{call.slug}/ideas/new?lang={lang}", content=too_big,
                               headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert words in response.text
        assert f'<html lang="{lang}">' in response.text and 'class="site-header"' in response.text
        assert "Sofia Ricci" in response.text  # the page knows who is logged in, like any page
        assert response.headers["content-security-policy"]
    assert _ideas(session) == 0


def test_a_streamed_oversized_request_gets_the_same_page(client: WebClient, session: Session, too_big: bytes) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for start in range(0, len(too_big), MIB):
            yield too_big[start:start + MIB]

    response = client.post(f"/calls/{call.slug}/ideas/new", content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "Ce que vous avez envoyé est trop lourd" in response.text and 'class="site-header"' in response.text
    assert _ideas(session) == 0


def test_an_oversized_api_request_gets_json(client: WebClient, too_big: bytes) -> None:
    response = client.post("/api/calls", content=too_big, headers={"accept-language": "nl"})
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert response.json()["error"].startswith("Wat u verstuurde is te groot")
