"""Photos are decoded in child processes (app.media.sandbox): a photo past the child's limits, a
child that hangs or a server that died is refused like an unreadable file, nothing is written,
and the next photo is processed as usual. All of it with real processes and real signals."""

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.errors import ValidationFailed
from app.i18n import language, translate
from app.idea.models import Idea, IdeaPhoto
from app.main import create_app
from app.media import sandbox, service
from app.media.images import ProcessedImage
from app.media.models import MediaFile
from app.media.sandbox_server import frame, read_frame
from app.settings import Settings
from tests.factories import make_call, make_user
from tests.media import samples
from tests.media.processes import gone, parent_of
from tests.support import WebClient, make_settings

UNREADABLE = "Cette photo n’a pas pu être lue"
# A server that stops answering is given this long; a photo of these tests takes well under 1 s.
TIMEOUT_SECONDS = 5


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url, photo_sandbox_timeout_seconds=TIMEOUT_SECONDS)


@pytest.fixture(autouse=True)
def fresh_servers() -> Iterator[None]:
    sandbox.shutdown()  # servers another test left idle are not this test's
    yield
    sandbox.shutdown()


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[ProcessedImage]:
    """What the sandbox returned to the upload path (a spy: the real sandbox runs)."""
    results: list[ProcessedImage] = []
    original = sandbox.process_image

    def spy(data: bytes, **kwargs: Any) -> ProcessedImage:
        results.append(original(data, **kwargs))
        return results[-1]

    monkeypatch.setattr(sandbox, "process_image", spy)
    return results


def _count(session: Session, model: type[SQLModel]) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def _files(settings: Settings) -> list[Path]:
    return [p for p in settings.media_dir.rglob("*") if p.is_file()] if settings.media_dir.exists() else []


def _refusal(session: Session, settings: Settings, data: bytes) -> str:
    with language("fr"), pytest.raises(ValidationFailed) as caught:
        service.store_image(session, settings, data=data, owner_id=None)
    return translate("fr", caught.value.errors["photo"])


def test_each_photo_is_decoded_in_a_fresh_child_not_in_the_web_process(
        session: Session, settings: Settings, decoded: list[ProcessedImage]) -> None:
    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    service.store_image(session, settings, data=samples.gps_jpeg(orientation=6), owner_id=None)

    (server,) = sandbox.server_pids()
    assert server != os.getpid() and parent_of(server) == os.getpid()
    first, second = (result.decoded_by for result in decoded)
    # Neither here nor in the long-lived server: a child per photo, whose memory goes with it.
    assert len({os.getpid(), server, first, second}) == 4
    assert _count(session, MediaFile) == 2


def test_a_photo_past_the_childs_memory_limit_is_refused_and_the_next_one_works(
        session: Session, settings: Settings) -> None:
    # 3000x2000 decodes to 18 MB of pixels: over a 1 MB budget, well within the pixel limit.
    photo = samples.encode(samples.picture((3000, 2000)), "JPEG")
    tiny = settings.model_copy(update={"photo_sandbox_memory_mb": 1})

    assert _refusal(session, tiny, photo).startswith(UNREADABLE)
    assert _count(session, MediaFile) == 0 and _files(settings) == []

    media = service.store_image(session, settings, data=photo, owner_id=None)
    assert (media.width, media.height) == (3000, 2000)
    assert _count(session, MediaFile) == 1


def test_a_server_killed_while_idle_is_replaced(session: Session, settings: Settings) -> None:
    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    (killed,) = sandbox.server_pids()
    os.kill(killed, signal.SIGKILL)

    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)

    (replacement,) = sandbox.server_pids()
    assert replacement != killed and gone(killed)
    assert _count(session, MediaFile) == 2


def test_a_hung_sandbox_refuses_the_idea_photo_writes_nothing_and_recovers(
        client: WebClient, session: Session, settings: Settings) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)  # a server, idle
    (hung,) = sandbox.server_pids()
    os.kill(hung, signal.SIGSTOP)  # alive but never answering, like a child stuck in a codec
    form = {"title": "Des bancs au bord du quai", "alt_photo_1": "Le quai",
            "body_md": "Installer des bancs à l'ombre le long du quai pour les personnes âgées.", "action": "submit"}
    before = set(_files(settings))

    response = client.submit(f"/calls/{call.slug}/ideas/new", form,
                             files={"photo_1": ("quai.jpg", samples.gps_jpeg(), "image/jpeg")})

    assert response.status_code == 422 and UNREADABLE in response.text
    assert 'value="Des bancs au bord du quai"' in response.text  # the text is kept
    assert _count(session, Idea) == 0 and _count(session, MediaFile) == 1 and set(_files(settings)) == before
    assert gone(hung)  # killed, not left stopped

    response = client.submit(f"/calls/{call.slug}/ideas/new", form,
                             files={"photo_1": ("quai.jpg", samples.gps_jpeg(), "image/jpeg")})

    assert response.status_code == 303
    assert _count(session, Idea) == 1 and _count(session, IdeaPhoto) == 1 and _count(session, MediaFile) == 2


def test_the_applications_shutdown_stops_its_servers(tmp_path: Path, database_url: str) -> None:
    app = create_app(make_settings(tmp_path / "var", database_url))
    with WebClient(app, base_url="http://testserver") as web, web.db.autocommit_session() as session:
        service.store_image(session, web.settings, data=samples.gps_jpeg(), owner_id=None)
        (server,) = sandbox.server_pids()

    assert sandbox.server_pids() == [] and gone(server)


def test_refusals_from_the_child_keep_their_reason(session: Session, settings: Settings) -> None:
    """A refusal decided in the child (here: too many pixels, read from the header) is worded
    as it was before photos left the web process."""
    small = settings.model_copy(update={"max_image_pixels": 1_000_000})
    shown = _refusal(session, small, samples.encode(samples.picture((2000, 1300)), "PNG"))
    assert "1 mégapixels" in shown
    assert _count(session, MediaFile) == 0


def test_the_server_outlives_a_child_that_dies() -> None:
    """The server program alone, spoken to as a web process does: a child that dies (here on a
    request without its limits, an exit status 1) is reported as a failure, never as a photo,
    and the server goes on with the next request in a new child."""
    server = subprocess.Popen([sys.executable, "-I", str(sandbox.SERVER_PROGRAM)],  # noqa: S603
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    try:
        server.stdin.write(frame({"memory_bytes": 0, "cpu_seconds": 0}, samples.gps_jpeg()))
        server.stdin.flush()
        answer = read_frame(server.stdout, sandbox.MAX_ANSWER_BYTES)
        assert answer is not None
        assert answer[0] == {"ok": False, "reason": "corrupt", "detail": "child died: exit 1"} and answer[1] == b""

        server.stdin.write(frame({"max_bytes": 1 << 20, "max_pixels": 1 << 20, "memory_bytes": 256 << 20,
                                  "cpu_seconds": 5}, samples.gps_jpeg()))
        server.stdin.flush()
        answer = read_frame(server.stdout, sandbox.MAX_ANSWER_BYTES)
        assert answer is not None and answer[0]["ok"] is True
        assert answer[0]["pid"] not in (server.pid, os.getpid())
        assert [v["name"] for v in answer[0]["variants"]] == ["display", "card", "thumb"]
    finally:
        server.stdin.close()
        assert server.wait(timeout=10) == 0  # ends when its input closes
        server.stdout.close()


def test_the_sandbox_inherits_no_secret_from_the_web_process(
        session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REINVENTONS_SECRET_KEY", "a-secret-the-web-process-holds")
    monkeypatch.setenv("REINVENTONS_DATABASE_URL", "postgresql+psycopg://app:password@db/reinventons")
    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)

    (server,) = sandbox.server_pids()
    environment = Path(f"/proc/{server}/environ").read_bytes()
    assert b"secret" not in environment and b"password" not in environment and b"REINVENTONS" not in environment
    # Beyond standard input, output and error (the web process's own), only its pipes: no
    # database file or connection, no listening socket.
    inherited = {os.readlink(f"/proc/{server}/fd/{fd}") for fd in os.listdir(f"/proc/{server}/fd") if int(fd) > 2}
    assert inherited and all(name.startswith("pipe:") for name in inherited), inherited


def _answer_of_a_photo(photo: bytes) -> tuple[dict[str, Any], bytes]:
    """What the real server answers for `photo` (the base that a compromised child alters)."""
    server = subprocess.Popen([sys.executable, "-I", str(sandbox.SERVER_PROGRAM)],  # noqa: S603
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(frame({"max_bytes": 1 << 20, "max_pixels": 1 << 20, "memory_bytes": 0, "cpu_seconds": 0}, photo))
    server.stdin.close()
    answer = read_frame(server.stdout, sandbox.MAX_ANSWER_BYTES)
    server.wait(timeout=10)
    server.stdout.close()
    assert answer is not None and answer[0]["ok"] is True
    return answer


def _hostile(header: dict[str, Any], payload: bytes, case: str) -> bytes:
    variants = header["variants"]
    if case == "nested header":
        text = b"[" * 60_000
        return len(text).to_bytes(4, "big") + (0).to_bytes(4, "big") + text
    if case == "infinite usage":  # figures only: the photo is good, the figures are dropped
        return frame({**header, "usage": {"cpu_ms": 1, "rss_start_kib": float("inf"), "rss_peak_kib": 1}}, payload)
    if case == "source larger than the pixel limit":
        return frame({**header, "width": 2 ** 40}, payload)
    if case == "variant larger than its box":
        return frame({**header, "variants": [{**variants[0], "width": 10 ** 6}, *variants[1:]]}, payload)
    if case == "variant that is a page":
        page = b"<html><script>alert(1)</script>"
        return frame({**header, "variants": [{**variants[0], "size": len(page)}, *variants[1:]]},
                     page + payload[variants[0]["size"]:])
    assert case == "variants missing"
    return frame({**header, "variants": variants[:1]}, payload[:variants[0]["size"]])


def _compromise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forged: bytes) -> None:
    """A FAKE server program stands for a child that a crafted file took over: it answers every
    photo with `forged`."""
    program = tmp_path / "compromised.py"
    program.write_text("import sys\n"
                       "while len(head := sys.stdin.buffer.read(8)) == 8:\n"
                       "    sys.stdin.buffer.read(sum(int.from_bytes(head[i:i + 4], 'big') for i in (0, 4)))\n"
                       f"    sys.stdout.buffer.write({forged!r})\n"
                       "    sys.stdout.buffer.flush()\n")
    monkeypatch.setattr(sandbox, "SERVER_PROGRAM", program)


@pytest.mark.parametrize("case", ["nested header", "source larger than the pixel limit",
                                  "variant larger than its box", "variant that is a page", "variants missing"])
def test_an_answer_a_compromised_child_forged_is_refused_and_writes_nothing(
        case: str, session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child's answer altered (`_compromise`, a fake): the web side checks every field rather
    than crash on nonsense (a 500), store it (a width past PostgreSQL's integer is a 500 there)
    or serve it (a page as a photo)."""
    photo = samples.gps_jpeg()
    _compromise(tmp_path, monkeypatch, _hostile(*_answer_of_a_photo(photo), case))

    assert _refusal(session, settings, photo).startswith(UNREADABLE)
    assert _count(session, MediaFile) == 0 and _files(settings) == []


def test_figures_a_compromised_child_forged_do_not_stop_a_good_photo(
        session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = samples.gps_jpeg()
    _compromise(tmp_path, monkeypatch, _hostile(*_answer_of_a_photo(photo), "infinite usage"))

    media = service.store_image(session, settings, data=photo, owner_id=None)

    assert media.width > 0 and _count(session, MediaFile) == 1


# The start of a FAKE pipeline module standing for images.py: the real one, loaded under another name.
PIPELINE_PRELUDE = '''
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("real_pipeline", {real!r})
real = importlib.util.module_from_spec(spec)
sys.modules["real_pipeline"] = real
spec.loader.exec_module(real)
Image, ImageRejected = real.Image, real.ImageRejected
'''

FAKE_PIPELINE = PIPELINE_PRELUDE + '''

def process_image(data, **limits):
    if b"take-over" not in data:
        return real.process_image(data, **limits)
    for fd in map(int, os.listdir("/proc/self/fd")):  # the answer's pipe, the only one open
        if fd > 2 and os.readlink(f"/proc/self/fd/{{fd}}").startswith("pipe:"):
            os.write(fd, {forged!r})
    os._exit(0)
'''


def test_a_compromised_child_cannot_answer_for_the_next_photo(
        session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real server program, with a FAKE pipeline standing for a child that a crafted file
    took over: it writes a proper answer for its own photo and a second one, red, which would
    otherwise be read as the answer for the next photo sent to this server (someone else's)."""
    attack = samples.encode(samples.picture((64, 48)), "JPEG", comment=b"take-over")
    red = samples.encode(Image.new("RGB", (64, 48), (255, 0, 0)), "JPEG")
    forged = frame(*_answer_of_a_photo(attack)) + frame(*_answer_of_a_photo(red))
    (tmp_path / "images.py").write_text(FAKE_PIPELINE.format(
        real=str(sandbox.SERVER_PROGRAM.with_name("images.py")), forged=forged))
    (tmp_path / "sandbox_server.py").write_bytes(sandbox.SERVER_PROGRAM.read_bytes())
    monkeypatch.setattr(sandbox, "SERVER_PROGRAM", tmp_path / "sandbox_server.py")

    assert _refusal(session, settings, attack).startswith(UNREADABLE)
    blue = samples.encode(Image.new("RGB", (64, 48), (0, 0, 255)), "JPEG")
    media = service.store_image(session, settings, data=blue, owner_id=None)

    stored, _ext = service.variant_bytes(settings, media, "thumb")
    red_, _green, blue_ = Image.open(io.BytesIO(stored)).convert("RGB").getpixel((32, 24))
    assert blue_ > 200 and red_ < 50, "the next photo is the attacker's"


FLOODING_PIPELINE = PIPELINE_PRELUDE + '''

def process_image(data, **limits):
    if b"take-over" not in data:
        return real.process_image(data, **limits)
    fd = next(fd for fd in map(int, os.listdir("/proc/self/fd"))
              if fd > 2 and os.readlink(f"/proc/self/fd/{{fd}}").startswith("pipe:"))
    block = bytes(1 << 20)
    for _ in range(200):  # 200 MB; a real attacker would not stop
        os.write(fd, block)
    os._exit(0)
'''


def test_a_child_writing_without_end_does_not_fill_its_servers_memory(tmp_path: Path) -> None:
    """The real server program with a FAKE pipeline standing for a child a crafted file took
    over, which writes 200 MB as its answer: the server stops reading past the largest answer
    allowed, kills the child, reports a failure, and its own memory stays far below."""
    real = str(sandbox.SERVER_PROGRAM.with_name("images.py"))
    (tmp_path / "images.py").write_text(FLOODING_PIPELINE.format(real=real))
    (tmp_path / "sandbox_server.py").write_bytes(sandbox.SERVER_PROGRAM.read_bytes())
    server = subprocess.Popen([sys.executable, "-I", str(tmp_path / "sandbox_server.py")],  # noqa: S603
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    try:
        server.stdin.write(frame({"max_bytes": 1 << 20, "max_pixels": 1 << 20, "memory_bytes": 0, "cpu_seconds": 0},
                                 samples.encode(samples.picture((64, 48)), "JPEG", comment=b"take-over")))
        server.stdin.flush()
        answer = read_frame(server.stdout, sandbox.MAX_ANSWER_BYTES)
        peak_kib = int(next(line for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                            if line.startswith("VmHWM:")).split()[1])
    finally:
        server.kill()
        server.wait()
        server.stdin.close()
        server.stdout.close()
    assert answer == ({"ok": False, "reason": "corrupt", "detail": "child died: signal 9"}, b"")
    assert peak_kib * 1024 < sandbox.MAX_ANSWER_BYTES + (64 << 20)  # the answer allowed and the server itself
