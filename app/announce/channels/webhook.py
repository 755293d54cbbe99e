"""The webhook channel: other city systems receive each announcement as a signed JSON event,
in the Standard Webhooks style (https://www.standardwebhooks.com/, the `standardwebhooks`
package): headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the shared `whsec_…` secret).

The body: {"type": "announcement.published", "timestamp": ISO 8601, "data": {...the post's
meta, "texts": {language: text}, "link": ...}}. The `webhook-id` is the delivery's key, the same
on every attempt, so a receiver that deduplicates by id acts once (hence `idempotent`). Deleting
sends "announcement.deleted" with an id derived from the key; `check` sends a "ping".

Answers are read by app.announce.channels.http, with 403 also taken as a refused signature:
2xx accepted; 429 RateLimited (Retry-After, in seconds or as an HTTP date); 401 and 403
AuthFailed; 5xx, 408, 425, timeouts and connection failures Transient; any other status
Rejected. Redirects are not followed (a moved endpoint is a configuration to fix). Errors name
the status and the host, never the secret nor the full URL (which may hold a token of the
receiver's).
"""

import base64
import binascii
import hashlib
import json
import secrets as random
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from app.announce.channels import http
from app.announce.channels.base import AuthFailed, OutgoingPost, RemoteRef, Reply
from app.clock import utcnow
from app.db import Database
from app.i18n import N_
from app.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
TIMEOUT_SECONDS = 5.0
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "Reinventons-Webhooks/1"


def new_secret() -> str:
    """A new signing secret: `whsec_` and 32 random bytes in base64 (what the administrators'
    form stores when they leave the field empty, to be copied into the receiving system)."""
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(32)).decode("ascii")


def _secret_problem(secret: str) -> str | None:
    if not secret.startswith(SECRET_PREFIX):
        return N_("The secret must start with whsec_ (leave the field empty to have one generated).")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return N_("The secret must be whsec_ followed by base64 (leave the field empty to have one generated).")
    if len(key) < 24:
        return N_("The secret is too short: at least 24 bytes after whsec_ (leave the field empty to have one "
                  "generated).")
    return None


def validate_config(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors ({field: msgid}) of a webhook's configuration: `url` an https address (http
    only to 127.0.0.1 or localhost, for a system on the same machine), without a user or password;
    `secret` empty (one is generated) or a `whsec_` secret of at least 24 bytes."""
    errors: dict[str, str] = {}
    url = str(config.get("url") or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is None or not host or len(url) > 500 or parts.username or parts.password \
            or parts.scheme not in ("https", "http"):
        errors["url"] = N_("Enter the complete address, starting with https://")
    elif parts.scheme == "http" and host not in LOOPBACK:
        errors["url"] = N_("The address must start with https:// (http:// only for 127.0.0.1 or localhost).")
    secret = str(secrets.get("secret") or "").strip()
    if secret:
        problem = _secret_problem(secret)
        if problem:
            errors["secret"] = problem
    return errors


class WebhookChannel:
    """One receiving endpoint and its signing secret."""

    kind: ClassVar[str] = "webhook"
    idempotent: ClassVar[bool] = True
    collects_replies: ClassVar[bool] = False

    def __init__(self, *, url: str, secret: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self.host = urlsplit(url).hostname or "?"
        try:
            self._signer = Webhook(secret)
        except Exception as exc:  # noqa: BLE001 - empty or undecodable: the credentials are unusable
            raise AuthFailed("the signing secret is missing or malformed") from exc
        self._timeout = httpx.Timeout(timeout)

    def _send(self, event_type: str, data: dict[str, Any], *, msg_id: str) -> httpx.Response:
        """POST one signed event; raises the contract's errors for anything but a 2xx."""
        now = utcnow()
        body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data},
                          ensure_ascii=False, separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(msg_id=msg_id, timestamp=now, data=body),
        }
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(self.url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            raise http.transport_error(exc) from exc
        if response.status_code == 403:  # a receiver that refuses the signature may say 401 or 403
            raise AuthFailed(f"HTTP 403: {self.host}")
        error = http.error_for(response, self.host)
        if error is not None:
            raise error
        return response

    def check(self) -> str:
        """Send a "ping" event; returns the receiver's host and answer, e.g. "hooks.example.be
        answered 204". Raises like `post`."""
        response = self._send("ping", {}, msg_id=f"ping_{random.token_hex(12)}")
        return f"{self.host} answered {response.status_code}"

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """Send "announcement.published" with `webhook-id` = `key`. Returns RemoteRef(id=key)
        with the announcement's id in `extra` (for `delete`). Raises Transient, RateLimited,
        AuthFailed or Rejected (see the module docstring)."""
        data = {**post.meta, "texts": post.texts, "link": post.link}
        self._send("announcement.published", data, msg_id=key)
        return RemoteRef(id=key, extra={"announcement_id": post.meta.get("announcement_id")})

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """None: sending again with the same id is safe (receivers deduplicate by webhook-id)."""
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Send "announcement.deleted" for the event `ref` names, with its own id derived from
        `ref.id` (the same on every attempt). Raises like `post`."""
        msg_id = "del_" + hashlib.sha256(ref.id.encode()).hexdigest()[:40]
        self._send("announcement.deleted",
                   {"announcement_id": ref.extra.get("announcement_id"), "published_webhook_id": ref.id},
                   msg_id=msg_id)

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """None: a webhook has no replies."""
        return []


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings, db: Database) -> WebhookChannel:
    """The channel of a stored webhook: `config["url"]`, `secrets["secret"]`. Raises AuthFailed
    (the channel waits for an administrator to save it again) when the stored configuration does
    not pass `validate_config` or the secret is missing."""
    problems = validate_config(config, secrets)
    if problems:
        raise AuthFailed(f"the stored configuration is not valid: {', '.join(sorted(problems))}")
    return WebhookChannel(url=str(config.get("url") or ""), secret=str(secrets.get("secret") or ""))
