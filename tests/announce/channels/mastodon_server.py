"""A real Mastodon REST API server for the Mastodon channel's tests and the delivery queue's
integration tests: mastodon-mock (a stateful FastAPI implementation of Mastodon's API, with
fault injection), served by uvicorn on 127.0.0.1 over real HTTP, in a thread of the test
process. A separate process (a delivery worker) reaches it at `base_url` like any server.

Fixture `mastodon_server` (function scope) gives a `MastodonServer`, reset to its seed before
the test (no status, no fault). The server itself is started once per test process
(`mastodon_server_process`, session scope; pytest-xdist workers each start theirs). Accounts:

- `ville` (the city; `city_token`), whose statuses the channel posts;
- `citoyenne` (`citizen_token`), who replies;
- `voisin` (`observer_token`), a third party through whom tests read what everyone sees.

A channel on it: `server.channel()`, or through the module's builder,
`build(server.config(), server.secrets(), settings=..., db=...)`; a worker process builds it
from the same `config()` and `secrets()` stored on the channel's row (`validate_config`
accepts http for 127.0.0.1).

Other test folders use these fixtures by importing them in their conftest.py:
`from tests.announce.channels.mastodon_server import mastodon_server, mastodon_server_process`.

Faults (`POST /api/v1/_mock/faults`, applied before the request reaches the API, first
matching rule first): `server.fail_next("/api/v1/statuses", [500, 500, 500])` makes the next
three POSTs to that path answer 500 and the fourth go through; `server.fault(...)` registers
any rule: `type="status"` (a forced `status`), `"ratelimit"` (429 with X-RateLimit-* headers;
pass `headers={"X-RateLimit-Reset": iso}`), `"latency"` (`delay_ms` then the real answer),
`"malformed"` (200 with a truncated JSON body), `"timeout"` (holds the connection 30 s: prefer
`latency` longer than the client's timeout); `count` how many requests it hits (None: all).
A fault leaves no status behind: the request never reaches the API.

Reading the server as a third party would: `server.statuses()` (the city's statuses, newest
first), `server.status(id)` (None once deleted), `server.descendants(id)`, `server.media(url)`
(an attachment's bytes); writing as the citizen: `server.reply(to_id, text)`,
`server.mention(text, visibility=..., language=...)` (a status naming the city); as the city's
other clients: `server.upload(data, mime, description)`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mastodon_mock.config import DatabaseConfig, MastodonMockConfig, SeedAccount, SeedConfig
from mastodon_mock.testing import MockServer

from app.announce.channels.mastodon import MastodonChannel

DOMAIN = "social.example"
CITY, CITIZEN, OBSERVER = "ville", "citoyenne", "voisin"
# Access tokens of a test server's seeded accounts, not credentials of anything real.
TOKENS = {CITY: "ville-token-3f9a", CITIZEN: "citoyenne-token-81c2", OBSERVER: "voisin-token-5d07"}
SEED = SeedConfig(accounts=[
    SeedAccount(username=CITY, display_name="Ville de Réinventons", access_token=TOKENS[CITY]),
    SeedAccount(username=CITIZEN, display_name="Une citoyenne", access_token=TOKENS[CITIZEN]),
    SeedAccount(username=OBSERVER, display_name="Un voisin", access_token=TOKENS[OBSERVER]),
])
HELPER_TIMEOUT = 10.0


@dataclass
class MastodonServer:
    """A running Mastodon API server (see the module's documentation)."""

    base_url: str
    domain: str = DOMAIN
    city_token: str = TOKENS[CITY]
    citizen_token: str = TOKENS[CITIZEN]
    observer_token: str = TOKENS[OBSERVER]

    # --- the channel's side

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A channel configuration for this server, as an administrator would save it."""
        return {"instance_url": self.base_url, "visibility": "public", "language": "fr", **overrides}

    def secrets(self, token: str | None = None) -> dict[str, str]:
        return {"access_token": self.city_token if token is None else token}

    def channel(self, *, token: str | None = None, timeout: float = 5.0,
                media_wait: float = 5.0, **config: Any) -> MastodonChannel:
        """A `MastodonChannel` on this server as the city (or with `token`); `config`
        overrides `visibility` or `language`."""
        settings = self.config(**config)
        return MastodonChannel(instance_url=settings["instance_url"],
                               access_token=self.city_token if token is None else token,
                               visibility=settings["visibility"], language=settings["language"],
                               timeout=timeout, media_wait=media_wait)

    # --- the server's state, as others see it

    def _get(self, path: str, *, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.observer_token}"}
        return httpx.get(self.base_url + path, params=params, headers=headers, timeout=HELPER_TIMEOUT)

    def statuses(self, acct: str = CITY, *, token: str | None = None) -> list[dict[str, Any]]:
        """The statuses of `acct`, newest first, as the observer's client reads them (or the
        owner of `token`: a private or direct status shows only to those it names)."""
        account = self._get("/api/v1/accounts/lookup", acct=acct, token=token)
        account.raise_for_status()
        answer = self._get(f"/api/v1/accounts/{account.json()['id']}/statuses", token=token, limit=40)
        answer.raise_for_status()
        return list(answer.json())

    def status(self, status_id: str) -> dict[str, Any] | None:
        """The status `status_id`, or None when the server answers 404."""
        answer = self._get(f"/api/v1/statuses/{status_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def descendants(self, status_id: str) -> list[dict[str, Any]]:
        answer = self._get(f"/api/v1/statuses/{status_id}/context")
        answer.raise_for_status()
        return list(answer.json()["descendants"])

    def media(self, url: str) -> bytes:
        """The bytes of an attachment, fetched from its `url`."""
        answer = httpx.get(url, timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return answer.content

    def reply(self, to_id: str, text: str, *, token: str | None = None,
              visibility: str = "public") -> dict[str, Any]:
        """Post `text` in reply to `to_id` as the citizen (or the owner of `token`)."""
        answer = httpx.post(self.base_url + "/api/v1/statuses",
                            headers={"Authorization": f"Bearer {token or self.citizen_token}"},
                            data={"status": text, "in_reply_to_id": to_id, "visibility": visibility},
                            timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return dict(answer.json())

    def mention(self, text: str, *, visibility: str = "public", language: str | None = None,
                token: str | None = None) -> dict[str, Any]:
        """Post `text` (which names `@ville`, the city) as the citizen (or the owner of
        `token`), with `visibility` and the declared `language`; the server notifies the
        accounts it names."""
        data = {"status": text, "visibility": visibility, **({"language": language} if language else {})}
        answer = httpx.post(self.base_url + "/api/v1/statuses",
                            headers={"Authorization": f"Bearer {token or self.citizen_token}"},
                            data=data, timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return dict(answer.json())

    def upload(self, data: bytes, mime: str, description: str) -> dict[str, Any]:
        """Upload an attachment as the city, as a Mastodon client does; its JSON."""
        answer = httpx.post(self.base_url + "/api/v2/media",
                            headers={"Authorization": f"Bearer {self.city_token}"},
                            files={"file": ("upload", data, mime)}, data={"description": description},
                            timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return dict(answer.json())

    # --- faults

    def fault(self, *, path: str | None = None, methods: list[str] | None = None,
              type: str = "status", status: int | None = None, headers: dict[str, str] | None = None,
              delay_ms: int = 0, body: Any = None, count: int | None = 1) -> str:
        """Register a fault rule (see the module's documentation); returns its id. `path` an
        exact path or a glob (`/api/v1/statuses/*`), None for every request."""
        effect: dict[str, Any] = {"type": type, "delay_ms": delay_ms}
        if status is not None:
            effect["status"] = status
        if headers is not None:
            effect["headers"] = headers
        if body is not None:
            effect["body"] = body
        rule = {"match": {"methods": methods, "path": path}, "effect": effect, "count": count}
        answer = httpx.post(self.base_url + "/api/v1/_mock/faults", json=rule, timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def fail_next(self, path: str, statuses: list[int], *, methods: list[str] | None = None) -> None:
        """The next `len(statuses)` requests to `path` (POST unless `methods` says otherwise)
        answer these statuses in order; the following ones reach the API."""
        for status in statuses:
            self.fault(path=path, methods=methods or ["POST"], status=status, count=1)

    def faults(self) -> list[dict[str, Any]]:
        """The rules still active, with their remaining counts."""
        answer = httpx.get(self.base_url + "/api/v1/_mock/faults", timeout=HELPER_TIMEOUT)
        answer.raise_for_status()
        return list(answer.json())

    def clear_faults(self) -> None:
        httpx.delete(self.base_url + "/api/v1/_mock/faults", timeout=HELPER_TIMEOUT).raise_for_status()

    def reset(self) -> None:
        """Back to the seed: the three accounts, no status, no fault."""
        httpx.post(self.base_url + "/api/v1/_mock/reset", timeout=HELPER_TIMEOUT).raise_for_status()


@pytest.fixture(scope="session")
def mastodon_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A mastodon-mock server for this test process; yields its base URL."""
    media = Path(tmp_path_factory.mktemp("mastodon_media"))
    config = MastodonMockConfig(domain=DOMAIN, database=DatabaseConfig(path=":memory:"),
                                seed=SEED, media_storage_path=str(media))
    with MockServer(config=config) as server:
        yield server.base_url


@pytest.fixture
def mastodon_server(mastodon_server_process: str) -> MastodonServer:
    """The Mastodon server, reset to its seed for this test."""
    server = MastodonServer(base_url=mastodon_server_process)
    server.reset()
    return server
