"""The language of citizens' texts is detected by the sandbox's server program
(app.media.sandbox.detect), never in the web process: a server of its own, started at the first
detection and kept. When it cannot answer (not started, died, hung), the text is saved all the
same with its language unknown, and the failure logged as a warning once. Real processes and
real signals throughout."""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app import contentlang
from app.comment.models import Comment
from app.idea.models import Idea
from app.media import sandbox, service
from app.settings import LANGUAGES, Settings
from tests.factories import make_call, make_user
from tests.media import samples
from tests.media.processes import gone, parent_of
from tests.support import WebClient

ROOT = Path(__file__).resolve().parents[2]
FRENCH = {"title": "Des bancs au bord du quai",
          "body_md": "Installer des bancs à l'ombre le long du quai pour les personnes âgées du quartier.",
          "action": "submit"}
# How long the tests below give a server that stops answering (the real one is 10 s).
SHORT_TIMEOUT = 2.0


@pytest.fixture(autouse=True)
def fresh_servers() -> Iterator[None]:
    sandbox.shutdown()  # servers another test left running are not this test's
    yield
    sandbox.shutdown()


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _ideas(session: Session) -> list[Idea]:
    session.expire_all()
    return list(session.exec(select(Idea).order_by(Idea.id)).all())  # type: ignore[arg-type]


def test_detection_is_answered_by_one_server_of_its_own_that_keeps_its_model(
        session: Session, settings: Settings) -> None:
    first = sandbox.detect("Een park voor de kinderen van de wijk", LANGUAGES)
    second = sandbox.detect("Ein Park für die Kinder im ganzen Viertel", LANGUAGES)

    assert first is not None and second is not None
    assert (first.language, second.language) == ("nl", "de") and second.probability >= 0.9
    # Another process, this one's child, the same one both times: the model is loaded once.
    assert first.pid == second.pid == sandbox.detector_pid() != os.getpid()
    assert parent_of(first.pid) == os.getpid()
    assert "numpy" in _maps(first.pid) and "PIL" not in _maps(first.pid)  # py3langid, no Pillow
    # The photo servers are others, and never load the model.
    service.store_image(session, settings, data=samples.gps_jpeg(), owner_id=None)
    (photos,) = sandbox.server_pids()
    assert photos != first.pid and "numpy" not in _maps(photos) and "PIL" in _maps(photos)


def test_only_the_first_characters_are_sent_and_the_answer_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    original = sandbox.detect

    def spy(text: str, languages: Collection[str]) -> sandbox.Detected | None:
        sent.append(text)
        return original(text, languages)

    monkeypatch.setattr(sandbox, "detect", spy)
    assert contentlang.detect_language("Ein Park für die Kinder im ganzen Viertel. " * 200) == "de"
    assert len(sent[0]) == sandbox.DETECT_MAX_CHARACTERS


def test_a_web_process_never_imports_py3langid_even_after_writes(tmp_path: Path, database_url: str) -> None:
    """A process that builds the application, as `reinventons serve` does, and takes an idea and
    a comment whose language nobody declared: they are detected, in another process."""
    script = """
import json, sys
from pathlib import Path
from sqlmodel import select
from app.comment.models import Comment
from app.idea.models import Idea
from app.main import create_app
from tests.factories import make_call, make_user
from tests.support import WebClient, make_settings

app = create_app(make_settings(Path(sys.argv[1]), sys.argv[2]))
with WebClient(app, base_url="http://testserver") as web, web.db.autocommit_session() as session:
    call = make_call(session)
    web.login_as(make_user(session))
    idea = web.submit(f"/calls/{call.slug}/ideas/new", json.loads(sys.argv[3]))
    (row,) = session.exec(select(Idea)).all()
    comment = web.submit(f"/ideas/{row.id}/comments", {"body": "Eine sehr gute Idee für unser ganzes Viertel!"})
    (said,) = session.exec(select(Comment)).all()
    print(json.dumps({"status": [idea.status_code, comment.status_code], "languages": [row.language, said.language],
                      "py3langid": sorted(m for m in sys.modules if m.startswith("py3langid"))}))
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "var"), database_url,  # noqa: S603
                           json.dumps(FRENCH)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": [303, 303], "languages": ["fr", "de"], "py3langid": []}


def test_a_hung_detector_leaves_the_language_unknown_saves_the_idea_and_recovers(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    assert contentlang.detect_language(FRENCH["body_md"]) == "fr"  # a server, idle, its model loaded
    monkeypatch.setattr(sandbox, "DETECT_TIMEOUT_SECONDS", SHORT_TIMEOUT)
    hung = sandbox.detector_pid()
    assert hung is not None
    os.kill(hung, signal.SIGSTOP)  # alive but never answering

    with caplog.at_level(logging.INFO, logger="app.media.sandbox"):
        response = client.submit(f"/calls/{call.slug}/ideas/new", FRENCH)

    assert response.status_code == 303
    (idea,) = _ideas(session)
    assert idea.title == FRENCH["title"] and idea.language is None  # saved, its language unknown
    assert gone(hung)  # killed, not left stopped
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "timed out" in warnings[0].getMessage()
    # A page of the idea, with no language marked, is served as usual.
    page = client.get(f"/ideas/{idea.id}")
    assert page.status_code == 200 and FRENCH["title"] in page.text
    monkeypatch.undo()  # the new server has the usual time to start and load its model

    response = client.submit(f"/calls/{call.slug}/ideas/new", {**FRENCH, "title": "Encore des bancs au quai"})

    assert response.status_code == 303
    assert [i.language for i in _ideas(session)] == [None, "fr"]  # a new server answered
    assert sandbox.detector_pid() not in (None, hung)


def test_a_detector_killed_mid_way_is_replaced_once_for_the_same_text() -> None:
    assert contentlang.detect_language(FRENCH["body_md"]) == "fr"
    victim = sandbox.detector_pid()
    assert victim is not None
    os.kill(victim, signal.SIGSTOP)  # it receives the next request, and dies before answering
    killer = threading.Timer(0.5, os.kill, (victim, signal.SIGKILL))
    killer.start()
    try:
        assert contentlang.detect_language("Een park voor de kinderen van de hele wijk") == "nl"
    finally:
        killer.join()
    assert sandbox.detector_pid() not in (None, victim) and gone(victim)


def test_without_a_detector_ideas_and_comments_are_saved_with_their_language_unknown(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # A server program that cannot start (say, a broken installation): every server ends at once.
    monkeypatch.setattr(sandbox, "SERVER_PROGRAM", Path("/nonexistent/sandbox_server.py"))
    call = make_call(session)
    client.login_as(make_user(session))

    with caplog.at_level(logging.INFO, logger="app.media.sandbox"):
        created = client.submit(f"/calls/{call.slug}/ideas/new", FRENCH)
        (idea,) = _ideas(session)
        commented = client.submit(f"/ideas/{idea.id}/comments", {"body": "Une très bonne idée pour tout le quartier !"})
        declared = client.submit(f"/ideas/{idea.id}/comments",
                                 {"body": "Eine sehr gute Idee für uns!", "language": "de"})

    assert (created.status_code, commented.status_code, declared.status_code) == (303, 303, 303)
    assert idea.language is None
    session.expire_all()
    comments = session.exec(select(Comment).order_by(Comment.id)).all()  # type: ignore[arg-type]
    assert [c.language for c in comments] == [None, "de"]  # a declared language needs no detector
    assert session.exec(select(func.count()).select_from(Idea)).one() == 1
    # Warned once, not at every text.
    assert [r.levelno for r in caplog.records if "detection" in r.getMessage()] == [logging.WARNING, logging.INFO]
    assert sandbox.detector_pid() is None


@pytest.mark.parametrize("answer", [
    {"ok": True, "pid": 12, "language": "xx", "probability": 1.0},
    {"ok": True, "pid": 12, "language": "fr", "probability": 7},
    {"ok": True, "pid": 12, "language": "fr", "probability": True},
    {"ok": True, "pid": -1, "language": "fr", "probability": 0.95},
    {"ok": False, "reason": "failed", "detail": "no model"},
])
def test_answers_are_checked_field_by_field(answer: dict[str, object]) -> None:
    with pytest.raises(sandbox._Failed):  # noqa: SLF001 - the check alone, on answers no server gives
        sandbox._detected(answer, LANGUAGES)  # noqa: SLF001
    assert sandbox._detected({"ok": True, "pid": 12, "language": "fr", "probability": 0.95},  # noqa: SLF001
                             LANGUAGES) == sandbox.Detected("fr", 0.95, 12)


def test_a_started_server_process_has_its_detector_running_before_the_first_text(settings: Settings) -> None:
    """The first detection loads the model (0.75-0.85 s on these machines); paid inside the first
    comment's write turn, it held every other writer of the process back. The application's
    lifespan starts it beside the first requests."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    assert sandbox.detector_pid() is None
    with TestClient(create_app(settings, warm_up=True)):
        deadline = time.monotonic() + 30
        while sandbox.detector_pid() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        running = sandbox.detector_pid()
        assert running is not None and running != os.getpid()
        # Loaded: the next detection is answered by the same server.
        detected = sandbox.detect("Een park voor de kinderen van de wijk", LANGUAGES)
        assert detected is not None and detected.language == "nl" and detected.pid == running
    assert gone(running)  # the lifespan's end stops it with the photo servers
