"""The `reinventons` command as an administrator uses it, in a subprocess."""

import csv
import io
import os
import re
import subprocess
import sys
import time
from email.header import decode_header, make_header
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from app.cli import address_for
from app.follow import service as follow_service
from app.notify import service as notify_service
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, exported_data, free_port, links_in

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


def test_demo_migrates_fills_prints_accounts_and_serves(tmp_path: Path, smtp: SmtpSink) -> None:
    """On another port than 8000 and without BASE_URL (issue 10, defect 21), every absolute link
    (e-mails, the CSV, the API, the data export) points where the demo really answers."""
    port = free_port()
    env = cli_env(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    env["REINVENTONS_SMTP_URL"] = smtp.url
    site = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([*EXE, "demo", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"{site}/", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "demo did not start"
                time.sleep(0.3)
        assert response.status_code == 200
        assert '<html lang="fr">' in response.text
        assert httpx.get(f"{site}/healthz").json() == {"status": "ok"}

        with httpx.Client(base_url=site, timeout=10) as browser:
            form = browser.get("/account/register").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            browser.post("/account/register", data={"csrf_token": token, "email": "port@example.org",
                                                    "display_name": "Port", "password": "une phrase assez longue"})
            calls = browser.get("/api/calls").json()
            assert calls and all(c["url"].startswith(f"{site}/calls/") for c in calls)
            rows = []
            for call in calls:
                sheet = browser.get(f"/calls/{call['slug']}/ideas.csv")
                rows += list(csv.reader(io.StringIO(sheet.text.lstrip("\ufeff"))))[1:]
            assert rows and all(row[9].startswith(f"{site}/ideas/") for row in rows)
            login = browser.get("/account/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
            browser.post("/account/login", data={"csrf_token": token, "email": "citoyenne@demo.reinventons.be",
                                                 "password": "demo-citoyenne-2026"})
            profile = browser.get("/account").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', profile).group(1)  # type: ignore[union-attr]
            export = exported_data(browser.post("/account/export", data={"csrf_token": token}).content)
            urls = re.findall(r"https?://[^\s\"]+", str(export))
            assert urls and all(u.startswith(site) for u in urls), urls
        deadline = time.monotonic() + 30
        while not smtp.to("port@example.org"):
            assert time.monotonic() < deadline, "the demo's worker sent no e-mail"
            time.sleep(0.2)
        links = links_in(smtp.last_to("port@example.org"))
        assert links and all(link.startswith(f"{site}/") for link in links), links
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"Open {site}/ in your browser" in output
    assert "citoyenne@demo.reinventons.be" in output
    assert "moderation@demo.reinventons.be" in output and "admin@demo.reinventons.be" in output


def test_the_public_address_of_a_listening_host() -> None:
    assert address_for("127.0.0.1", 8101) == "http://127.0.0.1:8101"
    assert address_for("0.0.0.0", 8101) == "http://127.0.0.1:8101"  # noqa: S104
    assert address_for("::1", 9000) == "http://[::1]:9000"
    assert address_for("localhost", 80) == "http://localhost:80"



def test_the_worker_process_alone_sends_emails_with_their_links(tmp_path: Path, database_url: str, settings,
                                                                session, smtp: SmtpSink) -> None:
    """`reinventons worker` runs in a process of its own, with no web app in it, and composes a
    notification e-mail anew at send time: its links still lead to the right pages (they once
    could not be built there, and every notification e-mail failed)."""
    follower = make_user(session, email="worker@example.org")
    idea = make_idea(session, make_call(session), title="Des bancs au square")
    follow_service.follow(session, idea_id=idea.id, user_id=follower.id)
    idea.answer_status, idea.answer_html = "accepted", "<p>Les bancs arrivent au printemps.</p>"
    assert notify_service.official_answer(session, settings, idea=idea, actor=None) == 1
    session.commit()
    env = cli_env(tmp_path, database_url)
    env.update(REINVENTONS_SMTP_URL=smtp.url, REINVENTONS_BASE_URL="https://participer.example.org")
    process = subprocess.Popen([*EXE, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 60
        while not smtp.to("worker@example.org"):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the worker sent no e-mail"
            time.sleep(0.2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    message = smtp.last_to("worker@example.org")
    assert "Des bancs au square" in str(make_header(decode_header(message["Subject"])))
    links = links_in(message)
    assert f"https://participer.example.org/ideas/{idea.id}#answer" in links, links
    assert "failed" not in output, output
