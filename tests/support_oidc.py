"""The OpenID providers for tests: the `oidc_provider` fixture (session-scoped) starts
tests/servers/oidc/start.mjs (the npm package oidc-provider, from node_modules, run by the system
Node) on 127.0.0.1 with one client for the platform (PKCE S256 required) and the accounts
`alice` (e-mail verified, lives in 4000, adult), `bruno` (e-mail not verified), `chloe` (a minor
in 4020) and `david` (lives in 1000), giving e-mail, profile (birth date) and address claims.
`oidc_email_only` starts a second provider (key "mail") with the same accounts that gives only
the e-mail claims; `oidc_userinfo_only` a third (key "info") that gives its claims at the
userinfo endpoint only. `sign_in_at_provider` plays the browser at a provider (its development login
form) and returns where it sends the browser back.

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
MAIL_KEY = "mail"  # the second provider's, which gives only e-mail claims
INFO_KEY = "info"  # the third's, which gives its claims at the userinfo endpoint only
FULL_SCOPES = "openid email profile address"
START_TIMEOUT = 30.0


@dataclass
class Provider:
    """A running provider: `issuer` (http://127.0.0.1:PORT) and the private key it signs with."""

    issuer: str
    key: RSAKey
    output: list[str] = field(default_factory=list)
    platform_key: str = KEY
    name: str = "Test ID"
    scopes: str = FULL_SCOPES

    def setting(self, **overrides: Any) -> dict[str, Any]:
        """The platform's `oidc_providers` entry for this provider."""
        return {"key": self.platform_key, "name": self.name, "issuer": self.issuer, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "scopes": self.scopes, **overrides}

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
        """A token signed (RS256) with the provider's key, or `key`: for crafted tokens."""
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    yield from _run_provider(KEY, "Test ID", FULL_SCOPES)


@pytest.fixture(scope="session")
def oidc_email_only() -> Iterator[Provider]:
    """A second provider (key "mail", "Mail ID") that gives only the e-mail claims."""
    yield from _run_provider(MAIL_KEY, "Mail ID", "openid email")


@pytest.fixture(scope="session")
def oidc_userinfo_only() -> Iterator[Provider]:
    """A third provider (key "info", "Info ID") whose ID tokens carry no profile, e-mail or
    address claims: those are at its userinfo endpoint only."""
    yield from _run_provider(INFO_KEY, "Info ID", FULL_SCOPES, conform=True)


def _run_provider(platform_key: str, name: str, scopes: str, base_url: str = "http://testserver", *,
                  conform: bool = False) -> Iterator[Provider]:
    """A provider process for the platform at `base_url` (its callback registered there), stopped
    when the generator closes: for fixtures (`yield from`), or `contextmanager(_run_provider)`."""
    key = RSAKey.generate_key(2048, parameters={"kid": "test-signing-key", "alg": "RS256", "use": "sig"})
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "OIDC_PORT": "0", "OIDC_CLIENT_ID": CLIENT_ID,
           "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": scopes, "OIDC_CONFORM": "1" if conform else "0",
           "OIDC_REDIRECT_URIS": f"{base_url}/account/oidc/{platform_key}/callback",
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
        yield Provider(issuer=ready[0], key=key, output=output, platform_key=platform_key, name=name, scopes=scopes)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


running_provider = contextmanager(_run_provider)


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
