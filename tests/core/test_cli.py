"""The `reinventons` command as an administrator uses it, in a subprocess."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.support import free_port

EXE = [sys.executable, "-m", "app.cli"]


def run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINVENTONS_")}
    env.update(REINVENTONS_DATA_DIR=str(tmp_path / "cli-var"), REINVENTONS_DATABASE_URL=database_url,
               REINVENTONS_SECRET_KEY="cli-test-secret")
    return env


def test_create_user_reads_the_password_from_stdin_and_the_account_can_log_in(tmp_path: Path, database_url: str,
                                                                              client) -> None:
    env = cli_env(tmp_path, database_url)
    done = run_cli(["create-user", "--email", "Mod@Example.org", "--name", "Modératrice", "--role", "moderator"],
                   env, stdin="une phrase de passe solide\nignored second line\n")
    assert done.returncode == 0, done.stderr
    assert "mod@example.org" in done.stdout
    engine = create_engine(database_url)
    with engine.connect() as conn:
        role, verified = conn.execute(
            text("SELECT role, email_verified_at IS NOT NULL FROM user_account WHERE email = 'mod@example.org'")
        ).one()
    engine.dispose()
    assert role == "moderator" and verified
    login = client.submit("/account/login", {"email": "mod@example.org", "password": "une phrase de passe solide"})
    assert login.status_code == 303

    weak = run_cli(["create-user", "--email", "x@example.org", "--name", "X Y"], env, stdin="court\n")
    assert weak.returncode == 2
    assert "password" in weak.stderr


def test_demo_migrates_fills_prints_accounts_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = cli_env(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    process = subprocess.Popen([*EXE, "demo", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "demo did not start"
                time.sleep(0.3)
        assert response.status_code == 200
        assert '<html lang="fr">' in response.text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "citoyenne@demo.reinventons.be" in output
    assert "moderation@demo.reinventons.be" in output and "admin@demo.reinventons.be" in output
