"""The data export as a ZIP (issue 13): the JSON and the photos of one's ideas, exactly one's own
with several people around, right when two people export at the same moment, and of no use to
anyone else (there is no address to fetch it from)."""

import io
import json
import zipfile
from dataclasses import dataclass

from sqlmodel import Session, select

from app.account.models import User
from app.idea.models import Idea, IdeaPhoto
from app.media import service as media_service
from app.media.models import MediaFile
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import png
from tests.support import LiveServer, WebClient
from tests.vote.parallel import browser, in_parallel, session_token


@dataclass
class Person:
    user: User
    email: str
    titles: set[str]
    photo_bytes: set[bytes]  # the stored photos of their ideas, as the archive must hold them


def photo(session: Session, settings: Settings, idea: Idea, color: tuple[int, int, int]) -> bytes:
    """Attach a photo of one colour to `idea`; returns the bytes of its largest stored file."""
    media = media_service.store_image(session, settings, data=png(color=color), owner_id=idea.author_id)
    session.add(IdeaPhoto(idea_id=idea.id or 0, media_id=media.id or 0, alt_text=f"Photo {color}"))
    session.flush()
    found = media_service.largest_file(settings, media)
    assert found is not None
    return found[0]


def people(session: Session, settings: Settings) -> list[Person]:
    """Three people, each with a published idea and a draft, and photos of their own colours."""
    call = make_call(session, phase="voting")
    result = []
    for n, (name, color) in enumerate((("Anne", (200, 30, 30)), ("Bob", (30, 200, 30)), ("Chloé", (30, 30, 200)))):
        email = f"{name.lower().replace('é', 'e')}.{n}@example.org"
        user = make_user(session, email=email, display_name=f"{name} Exemple", password="une phrase assez longue")
        published = make_idea(session, call, user, title=f"Idée publique de {name}")
        draft = make_idea(session, call, user, title=f"Brouillon privé de {name}", status="draft")
        shots = {photo(session, settings, published, color),
                 photo(session, settings, draft, (color[0] // 2, color[1] // 2, color[2] // 2))}
        result.append(Person(user, email, {published.title, draft.title}, shots))
    session.commit()
    return result


def read_zip(content: bytes) -> tuple[dict, dict[str, bytes]]:  # type: ignore[type-arg]
    """The archive's data.json and its other files by name."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("data.json")), files


def assert_only_theirs(person: Person, others: list[Person], content: bytes) -> None:
    data, files = read_zip(content)
    assert data["account"]["email"] == person.email
    assert {i["title"] for i in data["ideas"]} == person.titles
    assert all(name.startswith("photos/") for name in files)
    assert set(files.values()) == person.photo_bytes  # exactly their photos, each once
    assert len(files) == len(person.photo_bytes)
    # Each photo's entry in the JSON names its file in the archive.
    named = {p["file"] for i in data["ideas"] for p in i["photos"]}
    assert named == set(files)
    text = json.dumps(data, ensure_ascii=False)
    for other in others:
        assert other.email not in text
        assert not any(title in text for title in other.titles)
        assert not (set(files.values()) & other.photo_bytes)


def test_the_archive_holds_my_data_and_photos_and_nobody_elses(client: WebClient, session: Session) -> None:
    everyone = people(session, client.settings)
    for person in everyone:
        client.cookies.clear()
        client.login_as(person.user)
        response = client.submit("/account/export")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert ".zip" in response.headers["content-disposition"]
        assert response.headers["cache-control"] == "no-store"
        assert_only_theirs(person, [p for p in everyone if p is not person], response.content)


def test_a_missing_photo_file_leaves_the_rest_of_the_archive(client: WebClient, session: Session) -> None:
    anne = people(session, client.settings)[0]
    media = session.exec(select(MediaFile).where(MediaFile.owner_id == anne.user.id)).first()
    assert media is not None
    found = media_service.largest_file(client.settings, media)
    assert found is not None
    lost = found[0]
    for path in (client.settings.media_dir / media.key).iterdir():
        path.unlink()
    data, files = read_zip(client.login_as(anne.user).submit("/account/export").content)
    assert set(files.values()) == anne.photo_bytes - {lost}
    assert sorted(p["file"] is None for i in data["ideas"] for p in i["photos"]) == [False, True]


def test_two_exports_at_the_same_time_each_get_their_own(live_server: LiveServer, session: Session) -> None:
    everyone = people(session, live_server.app.state.settings)[:2]
    clients = [browser(live_server, session_token(session, p.user), json=False) for p in everyone]

    def export(i: int) -> bytes:
        response = clients[i].post("/account/export")
        assert response.status_code == 200, response.text
        return response.content

    for _round in range(3):
        contents = in_parallel(2, export)
        for i, person in enumerate(everyone):
            assert_only_theirs(person, [everyone[1 - i]], contents[i])
    for c in clients:
        c.close()


def test_the_export_is_of_no_use_to_anyone_else(client: WebClient, session: Session) -> None:
    anne, bob, _chloe = people(session, client.settings)
    client.login_as(anne.user)
    response = client.submit("/account/export")
    assert response.status_code == 200
    # Nothing about it is stored: no address in the answer, no file under the data folder.
    assert "location" not in response.headers and "content-location" not in response.headers
    archive_names = {p.name for p in client.settings.data_dir.rglob("*.zip")}
    assert archive_names == set()

    # Another person who replays the request gets their own data; a visitor gets the login page;
    # a request without the form's token (another site's form) gets nothing.
    other = WebClient(client.app, base_url="http://testserver")
    other.login_as(bob.user)
    assert_only_theirs(bob, [anne], other.submit("/account/export").content)
    visitor = WebClient(client.app, base_url="http://testserver")
    refused = visitor.submit("/account/export")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/account/login")
    assert client.post("/account/export").status_code == 403
    assert visitor.get("/account/export").status_code == 405
