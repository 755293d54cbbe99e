"""Several instances of one platform (issue 14, scale-out): started together against one empty
database they migrate it once and all serve; an instance whose secret key is not the
deployment's refuses to start and says why."""

import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import cli, migrate
from app.db import Database
from app.deployment import secret_key
from tests.support import free_port, make_settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "one-key-for-every-instance-of-this-test-deployment"


def _environment(data_dir: Path, database_url: str, **more: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("REINVENTONS_")}
    env.update({"REINVENTONS_DATA_DIR": str(data_dir), "REINVENTONS_DATABASE_URL": database_url,
                "REINVENTONS_LOG_FORMAT": "text"})
    env.update({f"REINVENTONS_{name}": value for name, value in more.items()})
    return env


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def test_two_instances_starting_together_migrate_an_empty_database_once_and_both_serve(
        tmp_path: Path, empty_database: str) -> None:
    ports = [free_port(), free_port()]
    # Two machines: each its own DATA_DIR, one database (on SQLite, one file both can reach).
    logs = [tmp_path / f"instance{n}.log" for n in (1, 2)]
    instances = [_serve(_environment(tmp_path / f"machine{n}", empty_database, SECRET_KEY=KEY), port, log)
                 for n, port, log in zip((1, 2), ports, logs, strict=True)]
    try:
        deadline = time.monotonic() + 90
        while not all(_answers(port) for port in ports):
            for instance, log in zip(instances, logs, strict=True):
                assert instance.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "\n".join(log.read_text()[-2000:] for log in logs)
            time.sleep(0.2)
    finally:
        for instance in instances:
            instance.terminate()
        for instance in instances:
            instance.wait(timeout=20)
    said = [log.read_text() for log in logs]
    migrated = [text for text in said if "Database migrated from an empty database to" in text]
    waited = [text for text in said if f"Database already at revision {migrate.head_revision()}" in text]
    assert len(migrated) == 1 and len(waited) == 1, said
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == \
            [migrate.head_revision()]
    engine.dispose()


def test_migrating_again_does_nothing_and_says_so(empty_database: str) -> None:
    assert migrate.upgrade(empty_database) == (None, migrate.head_revision())
    assert migrate.upgrade(empty_database) == (migrate.head_revision(), migrate.head_revision())


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_an_instance_with_another_secret_key_refuses_to_start_and_says_why(
        tmp_path: Path, empty_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(["migrate"], _environment(tmp_path / "machine1", empty_database, SECRET_KEY=KEY))
    assert first.returncode == 0, first.stderr
    assert f"Database migrated from an empty database to {migrate.head_revision()}." in first.stdout

    # Another machine with another configured key: serve and worker both refuse, before serving.
    other = _environment(tmp_path / "machine2", empty_database, SECRET_KEY="a-different-key-on-machine-two")
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        refused = _run(command, other)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert "REINVENTONS_SECRET_KEY differs from the secret key the other instances" in refused.stderr
        assert "a-different-key-on-machine-two" not in refused.stdout + refused.stderr
        assert KEY not in refused.stdout + refused.stderr

    # A machine left to generate its own key: the message says to set one key everywhere.
    generated = _run(["worker"], _environment(tmp_path / "machine3", empty_database))
    assert generated.returncode == 2
    assert "generated its own secret key" in generated.stderr
    assert "set REINVENTONS_SECRET_KEY to one value on every instance" in generated.stderr
    assert (tmp_path / "machine3" / "secret_key").read_text() not in generated.stderr

    # Rotating the key on purpose: `migrate` with the new key makes it the deployment's.
    rotated = _environment(tmp_path / "machine2", empty_database, SECRET_KEY="a-different-key-on-machine-two")
    assert _run(["migrate"], rotated).returncode == 0
    for name, value in rotated.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli.worker, "run_forever", lambda *args, **kwargs: None)
    assert cli.main(["worker"]) == 0  # the worker now starts with it (its loop replaced: no forever here)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT value FROM deployment_fact WHERE name = :n"),
                              {"n": secret_key.FACT}).scalar_one()
    engine.dispose()
    assert stored == secret_key.fingerprint("a-different-key-on-machine-two")
    assert "a-different-key" not in stored


@pytest.mark.parametrize("second_key", [KEY, "a-different-key-on-machine-two"])
def test_instances_checking_the_key_at_the_same_moment_agree_or_refuse_but_never_crash(
        tmp_path: Path, empty_database: str, second_key: str) -> None:
    # Both find no fingerprint yet; the first has written its own but not committed when the
    # second writes: the second waits for it, then agrees (same key) or refuses with the
    # message (another key). Before, it failed on the primary key (seen in CI, PostgreSQL).
    migrate.upgrade(empty_database)
    first_settings = make_settings(tmp_path / "machine1", empty_database, secret_key=KEY)
    second_settings = make_settings(tmp_path / "machine2", empty_database, secret_key=second_key)
    first, second = Database.from_settings(first_settings), Database.from_settings(second_settings)
    written, outcome = threading.Event(), []

    def check_second() -> None:
        written.wait(10)
        try:
            with second.transaction() as session:
                secret_key.check(session, second_settings)
            outcome.append("agreed")
        except secret_key.SecretKeyMismatch as mismatch:
            outcome.append(str(mismatch))
        except Exception as error:  # noqa: BLE001 - the defect this test is about
            outcome.append(repr(error))

    thread = threading.Thread(target=check_second)
    thread.start()
    try:
        with first.transaction() as session:
            secret_key.check(session, first_settings)
            written.set()
            time.sleep(0.5)  # the second's check is under way, waiting for this transaction
        thread.join(20)
    finally:
        first.dispose()
        second.dispose()
    if second_key == KEY:
        assert outcome == ["agreed"]
    else:
        assert len(outcome) == 1 and outcome[0].startswith("REINVENTONS_SECRET_KEY differs"), outcome
