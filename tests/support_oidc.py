"""The OpenID provider for tests: the `oidc_provider` fixture (session-scoped) starts
tests/servers/oidc/start.mjs (the npm package oidc-provider, from node_modules, run by the system
Node) on 127.0.0.1 with one client for the platform (PKCE S256 required) and two accounts,
`alice` (e-mail verified) and `bruno` (e-mail not verified); `sign_in_at_provider` plays the
browser at the provider (its development login form) and returns where it sends the browser back.

Use it from a test module: `from tests.support_oidc import oidc_provider  # noqa: F401`. Each
pytest-xdist worker starts its own. The provider signs with a key this module generates, so a
test may also sign tokens as the provider (`Provider.sign`) to check what the platform refuses.
"""

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

SERVER = Path(__file__).parent / "servers" / "oidc" / "start.mjs"
CLIENT_ID = "reinventons"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"
KEY = "test"  # the provider's key in the platform's settings
CALLBACK = f"http://testserver/account/oidc/{KEY}/callback"
START_TIMEOUT = 30.0


@dataclass
class Provider:
    """A running provider: `issuer` (http://127.0.0.1:PORT) and the private key it signs with."""

    issuer: str
    key: RSAKey
    output: list[str] = field(default_factory=list)

    def setting(self, **overrides: Any) -> dict[str, Any]:
        """The platform's `oidc_providers` entry for this provider."""
        return {"key": KEY, "name": "Test ID", "issuer": self.issuer, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, **overrides}

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
        """A token signed (RS256) with the provider's key, or `key`: for crafted tokens."""
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    with running_provider(CALLBACK) as provider:
        yield provider


@contextmanager
def running_provider(redirect_uris: str) -> Iterator[Provider]:
    """The provider running, with the platform's client allowed to return to `redirect_uris`
    (comma-separated); stopped at the end of the block."""
    key = RSAKey.generate_key(2048, parameters={"kid": "test-signing-key", "alg": "RS256", "use": "sig"})
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "OIDC_PORT": "0", "OIDC_CLIENT_ID": CLIENT_ID,
           "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_REDIRECT_URIS": redirect_uris,
           "OIDC_JWKS": json.dumps({"keys": [key.as_dict(private=True)]})}
    process = subprocess.Popen(["node", str(SERVER)], cwd=SERVER.parents[3], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output: list[str] = []
    ready: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("ready "):
                ready.append(line.split()[1])

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not ready and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not ready:
        process.kill()
        pytest.fail("the OpenID provider did not start:\n" + "".join(output))
    try:
        yield Provider(issuer=ready[0], key=key, output=output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def sign_in_at_provider(authorize_url: str, login: str, browser: httpx.Client | None = None) -> str:
    """Play the browser at the provider from `authorize_url`: log in as `login` on its form
    and return the URL it sends the browser back to (the platform's callback, with code and
    state). `browser` keeps the provider's cookies between calls (a session at the provider)."""
    own = browser is None
    browser = browser or httpx.Client(timeout=10)
    try:
        url = authorize_url
        for _ in range(10):
            if not url.startswith("http://127.0.0.1"):
                return url
            response = browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            assert response.status_code == 200, response.text
            action = re.search(r'action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="([^"]+)"', response.text)
            assert action and prompt, response.text
            data = {"prompt": prompt.group(1), "login": login, "password": "any"}
            posted = browser.post(urljoin(url, action.group(1)), data=data)
            assert posted.is_redirect, posted.text
            url = urljoin(url, posted.headers["location"])
        raise AssertionError("the provider never sent the browser back")
    finally:
        if own:
            browser.close()
