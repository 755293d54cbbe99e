"""Prometheus metrics behind their token, liveness and readiness (issue 14, observability)."""

import http.server
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from app import clock
from app.clock import utcnow
from app.main import create_app
from app.outbox import service as outbox
from tests.support import WebClient, free_port, make_settings

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scraped(tmp_path: Path, database_url: str) -> Iterator[WebClient]:
    app = create_app(make_settings(tmp_path / "var", database_url, metrics_token=TOKEN))
    with WebClient(app, base_url="http://testserver") as web:
        yield web


def _samples(web: WebClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_metrics_do_not_exist_without_a_token_and_refuse_a_wrong_one(client: WebClient,
                                                                    scraped: WebClient) -> None:
    assert client.get("/metrics").status_code == 404  # no token configured: no endpoint
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    for sent in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                 {"Authorization": f"Basic {TOKEN}"}):
        refused = scraped.get("/metrics", headers=sent)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        assert "reinventons_" not in refused.text


def test_request_latency_by_route_and_the_outbox_and_deliveries_read_from_the_database(
        scraped: WebClient) -> None:
    def histogram_count(route: str, status: str) -> float:
        key = ("reinventons_http_request_duration_seconds_count",
               (("method", "GET"), ("route", route), ("status", status)))
        return _samples(scraped).get(key, 0.0)

    home_before = histogram_count("page:home", "2xx")
    scraped.get("/")
    scraped.get("/")
    scraped.get("/ideas/999999")
    assert histogram_count("page:home", "2xx") == home_before + 2
    assert histogram_count("idea:detail", "4xx") >= 1  # an unknown idea: its route, not "unmatched"
    unmatched_before = histogram_count("unmatched", "4xx")  # the registry is the process's: count from here
    scraped.get("/no/such/page/1")
    scraped.get("/no/such/page/2")
    assert histogram_count("unmatched", "4xx") == unmatched_before + 2  # unknown paths share one series, not one each

    enqueued_after = utcnow()
    with scraped.db.transaction() as session:
        outbox.enqueue(session, "email", {"to": "a@example.org"})
        outbox.enqueue(session, "email", {"to": "b@example.org"})
        outbox.enqueue(session, "reindex", {}, run_at=utcnow() + timedelta(hours=1))
    with clock.travel(timedelta(seconds=90)):
        samples = _samples(scraped)
    assert samples[("reinventons_outbox_messages", (("kind", "email"), ("status", "pending")))] == 2
    assert samples[("reinventons_outbox_messages", (("kind", "reindex"), ("status", "pending")))] == 1
    # The oldest message due has waited 90 s, plus the seconds this test took on a busy machine
    # (the clock travels but goes on: 91.4 s seen in CI); the one due in an hour is not late.
    took = (utcnow() - enqueued_after).total_seconds()
    assert 90 <= samples[("reinventons_outbox_oldest_due_age_seconds", ())] <= 90 + took
    assert ("reinventons_search_fallbacks_total", ()) in samples


def test_liveness_and_readiness(client: WebClient) -> None:
    live = client.get("/healthz")
    assert live.json() == {"status": "ok"} and live.headers["cache-control"] == "no-store"  # never a cached "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["cache-control"] == "no-store"
    assert ready.json() == {"status": "ready",
                            "checks": {"database": "ok", "storage": "ok", "search": "ok", "redis": "ok"}}


@pytest.mark.parametrize("folder", ["media_dir", "private_media_dir", "imports_dir"])
def test_not_ready_when_a_storage_folder_takes_no_file(tmp_path: Path, database_url: str, folder: str) -> None:
    settings = make_settings(tmp_path / "var", database_url)
    broken: Path = getattr(settings, folder)
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("a file where the folder should be")
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        ready = web.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "ok", "storage": "unavailable", "search": "ok",
                                          "redis": "ok"}
        assert "a file where" not in ready.text and str(tmp_path) not in ready.text  # no details out


class _FakeMeiliHealth(http.server.BaseHTTPRequestHandler):
    """A fake: Meilisearch's GET /health answer only (no Meilisearch server can run here)."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = json.dumps({"status": "available"}).encode()
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_search_degraded_keeps_the_process_ready(tmp_path: Path, database_url: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeMeiliHealth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        up = make_settings(tmp_path / "up", database_url, meili_url=f"http://127.0.0.1:{server.server_port}")
        with WebClient(create_app(up), base_url="http://testserver") as web:
            assert web.get("/readyz").json()["checks"]["search"] == "ok"
    finally:
        server.shutdown()
    down = make_settings(tmp_path / "down", database_url, meili_url=f"http://127.0.0.1:{free_port()}")
    with WebClient(create_app(down), base_url="http://testserver") as web:
        ready = web.get("/readyz")
        # Searches fall back to the database: the process still serves.
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready",
                                "checks": {"database": "ok", "storage": "ok", "search": "degraded",
                                           "redis": "ok"}}


def test_metrics_and_probes_are_not_pages(scraped: WebClient, session: Session) -> None:
    # No session, cookie or CSRF needed; nothing personal in them.
    for path in ("/healthz", "/readyz"):
        assert "set-cookie" not in scraped.get(path).headers, path


def test_several_server_processes_report_one_sum(tmp_path: Path, database_url: str) -> None:
    """`reinventons serve --workers 2`: whichever process answers a scrape, it counts the
    requests every process answered (prometheus-client's multiprocess mode)."""
    from tests.core.test_cli import EXE, cli_env

    port = free_port()
    env = cli_env(tmp_path, database_url)
    env.update(REINVENTONS_METRICS_TOKEN=TOKEN, REINVENTONS_LOG_FORMAT="json")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    site = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*EXE, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{site}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        with httpx.Client(base_url=site, timeout=30) as web:  # a new connection per request: both processes serve
            for _ in range(12):
                answer = httpx.get(f"{site}/offline", timeout=30, headers={"Connection": "close"})
                assert answer.status_code == 200
            for _ in range(4):
                scrape = web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"})
                families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
                counted = sum(s.value for s in families["reinventons_http_request_duration_seconds"].samples
                              if s.name.endswith("_count") and s.labels.get("route") == "page:offline")
                assert counted == 12, scrape.text[:2000]
    finally:
        server.terminate()
        server.wait(timeout=30)
