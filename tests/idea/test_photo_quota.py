"""A daily quota of photos and bytes per person, counted before any photo is decoded: one
citizen re-editing a draft with four new photos per request had 108 photos processed in about
a second. Past the quota: 429, a clear message, and the typed text kept in the form."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.account.models import Role
from app.idea.models import Idea, IdeaPhoto
from app.media import sandbox
from app.media.models import MediaFile, UploadCharge
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import png
from tests.support import LiveServer, WebClient, free_port, make_settings
from tests.vote.parallel import browser, in_parallel, session_token

PER_DAY = 6
QUOTA_TEXT = "Vous avez envoyé le maximum de photos permis en un jour (6 photos"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url, photos_per_day=PER_DAY)


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many photos the image pipeline was asked to decode (in its sandbox, app.media.sandbox)."""
    calls: list[int] = []
    original = sandbox.process_image

    def counting(data: bytes, **kwargs: Any) -> Any:
        calls.append(len(data))
        return original(data, **kwargs)

    monkeypatch.setattr(sandbox, "process_image", counting)
    return calls


def _count(session: Session, model: type[SQLModel], *where: Any) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def _photos(n: int, start: int = 0) -> tuple[dict[str, str], dict[str, Any]]:
    alts = {f"alt_photo_{i}": f"Photo {start + i}" for i in range(1, n + 1)}
    files = {f"photo_{i}": (f"p{start + i}.png", png(color=(start + i, 80, 90)), "image/png") for i in range(1, n + 1)}
    return alts, files


def test_re_editing_a_draft_with_new_photos_stops_at_the_quota(client: WebClient, session: Session,
                                                                decoded: list[int]) -> None:
    call = make_call(session)
    author = make_user(session)
    idea = make_idea(session, call, author, status="draft", title="Mon brouillon")
    session.commit()
    client.login_as(author)
    url = f"/ideas/{idea.id}/edit"
    alts, files = _photos(4)
    assert client.submit(url, {"title": "Mon brouillon", "action": "save", **alts}, files=files).status_code == 303
    assert len(decoded) == 4
    # Remove the four and send four new ones: 8 photos in a day, past the quota of 6.
    existing = [p.id for p in session.exec(select(IdeaPhoto).where(IdeaPhoto.idea_id == idea.id))]
    alts, files = _photos(4, start=4)
    response = client.submit(url, {"title": "Un titre tapé à garder", "body_md": "Un texte tapé à garder.",
                                   "action": "save", "remove_photo": [str(i) for i in existing],
                                   "existing_id": [str(i) for i in existing],
                                   "existing_alt": ["x"] * len(existing), **alts}, files=files)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert QUOTA_TEXT in response.text.replace("&#39;", "'")
    assert 'value="Un titre tapé à garder"' in response.text and "Un texte tapé à garder." in response.text
    assert len(decoded) == 4  # refused before decoding anything
    assert _count(session, IdeaPhoto, IdeaPhoto.idea_id == idea.id) == 4  # nothing changed
    session.refresh(idea)
    assert idea.title == "Mon brouillon"
    # Two more fit (6 in the day), a seventh does not.
    alts, files = _photos(2, start=8)
    assert client.submit(url, {"title": "Mon brouillon", "action": "save", "remove_photo": [str(i) for i in existing],
                               **alts}, files=files).status_code == 303
    alts, files = _photos(1, start=10)
    assert client.submit(url, {"title": "Mon brouillon", "action": "save", **alts}, files=files).status_code == 429
    assert len(decoded) == 6


def test_a_new_idea_past_the_quota_keeps_its_text(client: WebClient, session: Session, decoded: list[int]) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    url = f"/calls/{call.slug}/ideas/new"
    for n in range(2):
        alts, files = _photos(3, start=3 * n)
        form = {"title": f"Idée illustrée {n}", "action": "draft", **alts}
        assert client.submit(url, form, files=files).status_code == 303
    alts, files = _photos(1, start=7)
    body = "Mon texte entier, à garder tel quel."
    response = client.submit(url, {"title": "Une idée à ne pas perdre", "body_md": body, "action": "submit", **alts},
                             files=files)
    assert response.status_code == 429
    assert 'value="Une idée à ne pas perdre"' in response.text and body in response.text
    assert QUOTA_TEXT in response.text.replace("&#39;", "'")
    assert _count(session, Idea) == 2 and len(decoded) == 6
    # Without the photo the idea goes through: the quota is about photos only.
    assert client.submit(url, {"title": "Une idée à ne pas perdre", "action": "draft"}).status_code == 303


def test_bytes_count_too(client: WebClient, session: Session, settings: Settings, decoded: list[int]) -> None:
    settings.photo_bytes_per_day = 2 * len(png(color=(1, 80, 90))) + 10
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    alts, files = _photos(3)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Trois photos lourdes", "action": "draft",
                                                               **alts}, files=files)
    assert response.status_code == 429 and not decoded


def test_photos_refused_with_the_form_still_count(client: WebClient, session: Session, decoded: list[int]) -> None:
    """A form refused after its photos were decoded (one of them damaged) must not let someone
    have photos decoded for free, request after request."""
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    url = f"/calls/{call.slug}/ideas/new"
    alts, files = _photos(2)
    files["photo_3"] = ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    form = {"title": "Une photo abîmée", "action": "draft", "alt_photo_3": "Abîmée", **alts}
    for expected in (422, 422, 429):
        assert client.submit(url, form, files=files).status_code == expected
    assert len(decoded) == 6
    assert _count(session, UploadCharge, UploadCharge.user_id == author.id) == 6
    assert _count(session, MediaFile) == 0


def test_staff_are_not_limited(client: WebClient, session: Session) -> None:
    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    client.login_as(moderator)
    for n in range(3):
        alts, files = _photos(4, start=4 * n)
        response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": f"Idée de la Ville {n}",
                                                                   "action": "draft", **alts}, files=files)
        assert response.status_code == 303
    assert _count(session, MediaFile) == 12


@pytest.fixture
def quota_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    port = free_port()
    server = LiveServer(make_settings(tmp_path / "var", database_url, base_url=f"http://127.0.0.1:{port}",
                                      photos_per_day=4))
    server.start()
    yield server
    server.stop()


def test_parallel_uploads_cannot_pass_the_quota(quota_server: LiveServer, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=20)
    author = make_user(session)
    session.commit()
    token = session_token(session, author)
    url = f"/calls/{call.slug}/ideas/new"
    image = png()

    def send(i: int) -> int:
        with browser(quota_server, token, json=False) as http:
            response = http.post(url, data={"title": f"Idée parallèle {i}", "action": "draft",
                                            "alt_photo_1": "Une photo"},
                                 files={"photo_1": ("p.png", image, "image/png")})
            return response.status_code

    codes = in_parallel(8, send)
    assert sorted(codes) == [303] * 4 + [429] * 4
    assert _count(session, MediaFile) == 4
    assert _count(session, UploadCharge, UploadCharge.user_id == author.id) == 4
