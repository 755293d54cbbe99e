"""A real S3 gateway for tests: Ceph's RADOS Gateway (radosgw, from Debian) on a one-node
cluster kept in memory, with cephx authentication on and AWS Signature Version 4 checked.

The `s3_gateway` fixture (session-scoped) writes a cluster configuration in a temporary folder,
creates a monitor and one OSD whose object store is `memstore` (RAM, nothing on disk), starts
them and radosgw in the foreground as children of the test process, creates an S3 user with
`radosgw-admin`, and stops everything after the session (about 10 seconds to start). Tests that
use it belong to the xdist group "s3", so one worker starts one cluster.

Use it from a conftest or a test module: `from tests.support_s3 import s3_gateway  # noqa: F401`.
When radosgw is not installed (scripts/setup installs radosgw, ceph-mon and ceph-osd as root),
tests using it fail with what to run; REINVENTONS_SKIP_S3=1 skips them instead.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port

SKIP_ENV = "REINVENTONS_SKIP_S3"
START_TIMEOUT = 60.0  # seconds; a start takes about 10 on these machines


@dataclass(frozen=True)
class S3Gateway:
    """A running gateway: its `endpoint` (http://127.0.0.1:port) and an S3 user's keys."""

    endpoint: str
    access_key_id: str
    secret_access_key: str

    def client(self, secret: str | None = None) -> Any:
        """A boto3 S3 client for arranging and checking, as the gateway's user (or with another
        `secret`, to see a bad signature refused)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=secret if secret is not None else self.secret_access_key,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def new_bucket(self) -> str:
        """A new empty bucket of the user's, named for one test."""
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])}... failed ({done.returncode}): {done.stderr[-1500:]}")
    return done.stdout


def _configuration(folder: Path, mon_port: int, rgw_port: int) -> str:
    # One monitor and one OSD in memory; pools of one copy (a cluster of one machine); no
    # manager daemon (nothing here needs one). Paths are all under `folder`.
    return f"""[global]
fsid = {uuid.uuid4()}
mon host = v1:127.0.0.1:{mon_port}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd objectstore = memstore
memstore device bytes = 536870912
mon data avail crit = 1
run dir = {folder}/run
admin socket = {folder}/run/$name.asok
log file = {folder}/log/$name.log
keyring = {folder}/$name.keyring
mon data = {folder}/mon
osd data = {folder}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
"""


@pytest.fixture(scope="session")
def s3_gateway() -> Iterator[S3Gateway]:
    if shutil.which("radosgw") is None or shutil.which("ceph-mon") is None or shutil.which("ceph-osd") is None:
        if os.environ.get(SKIP_ENV):
            pytest.skip(f"{SKIP_ENV} is set and radosgw is not installed")
        pytest.fail("radosgw, ceph-mon and ceph-osd are not installed: run scripts/setup (as root), "
                    f"or set {SKIP_ENV}=1 to skip the tests against a real S3 gateway")
    folder = Path(tempfile.mkdtemp(prefix="rv-ceph-"))
    for part in ("mon", "osd", "run", "log"):
        (folder / part).mkdir()
    mon_port, rgw_port = free_port(), free_port()
    conf = folder / "ceph.conf"
    conf.write_text(_configuration(folder, mon_port, rgw_port))
    c = ("-c", str(conf))
    daemons: list[subprocess.Popen[bytes]] = []
    try:
        _run("ceph-authtool", "--create-keyring", str(folder / "mon.a.keyring"), "--gen-key", "-n", "mon.",
             "--cap", "mon", "allow *")
        _run("ceph-authtool", "--create-keyring", str(folder / "client.admin.keyring"), "--gen-key",
             "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *")
        _run("ceph-authtool", str(folder / "mon.a.keyring"), "--import-keyring", str(folder / "client.admin.keyring"))
        _run("monmaptool", "--create", "--add", "a", f"v1:127.0.0.1:{mon_port}",
             "--fsid", conf.read_text().split("fsid = ")[1].split("\n")[0], str(folder / "monmap"))
        _run("ceph-mon", *c, "--mkfs", "-i", "a", "--monmap", str(folder / "monmap"),
             "--keyring", str(folder / "mon.a.keyring"))
        daemons.append(subprocess.Popen(["ceph-mon", *c, "-f", "-i", "a"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        osd_uuid = str(uuid.uuid4())
        _run("ceph", *c, "-n", "client.admin", "--connect-timeout", "30", "osd", "new", osd_uuid)
        _run("ceph-osd", *c, "-i", "0", "--mkfs", "--mkkey", "--no-mon-config", "--osd-uuid", osd_uuid)
        _run("ceph", *c, "-n", "client.admin", "auth", "add", "osd.0", "osd", "allow *", "mon", "allow profile osd",
             "-i", str(folder / "osd.0.keyring"))
        daemons.append(subprocess.Popen(["ceph-osd", *c, "-f", "-i", "0"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        _run("ceph", *c, "-n", "client.admin", "auth", "get-or-create", "client.rgw", "mon", "allow rw",
             "osd", "allow rwx", "-o", str(folder / "client.rgw.keyring"))
        daemons.append(subprocess.Popen(["radosgw", *c, "-f", "-n", "client.rgw"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        endpoint = f"http://127.0.0.1:{rgw_port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(endpoint, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or any(d.poll() is not None for d in daemons):
                logs = {p.name: p.read_text()[-1500:] for p in (folder / "log").glob("*.log")}
                raise RuntimeError(f"the S3 gateway did not start: {logs}")
            time.sleep(0.3)
        access, secret = secrets.token_hex(10).upper(), secrets.token_urlsafe(30)
        _run("radosgw-admin", *c, "-n", "client.admin", "user", "create", "--uid=reinventons",
             "--display-name=Reinventons tests", f"--access-key={access}", f"--secret-key={secret}")
        yield S3Gateway(endpoint, access, secret)
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
        for daemon in daemons:
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
        shutil.rmtree(folder, ignore_errors=True)
