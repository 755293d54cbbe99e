"""Error reporting to Sentry (or a Sentry-compatible service: GlitchTip, Bugsink) when
`SENTRY_DSN` is set, through the official sentry-sdk. What leaves the server is bounded to what
a developer needs and holds no one's personal data or secrets: no cookies, no query strings
(one-time tokens travel there), no form bodies, no authorization or CSRF headers, no user, no
IP address (`send_default_pii=False`), no local variables, no breadcrumbs (earlier log lines and
outgoing requests' URLs, which can name a person or carry a token); each event carries the
request id."""

import re
from typing import Any

import sentry_sdk

from app.observability import context

# Request headers that may carry a secret; dropped from every event.
SECRET_HEADERS = {"authorization", "cookie", "x-csrf-token", "proxy-authorization"}
# Paths that carry a secret as a segment: the `{token}` of the unsubscribe and confirmation
# links (app.notify.routes, app.newsletter.routes). tests/observability checks that every route
# with a `{token}` in its path is covered.
TOKEN_IN_PATH = re.compile(r"(/(?:unsubscribe|confirm)/)[^/?#]+")


def mask_path(url: str) -> str:
    """`url` without its query string and with the secret segment of a token path masked
    ("https://x/unsubscribe/[token]/one-click")."""
    return TOKEN_IN_PATH.sub(r"\1[token]", url.split("?", 1)[0])


def scrub(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """`event` (Sentry's event payload) without what may hold personal data or secrets, and
    tagged with the current request id. Sentry's `before_send` hook."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "query_string", "data", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = mask_path(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
    event.pop("user", None)
    request_id = context.current()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def configure(dsn: str, *, environment: str, release: str | None = None) -> bool:
    """Start reporting errors to `dsn` (nothing when it is empty). Returns whether it started.
    Performance tracing stays off: the benchmark measures speed, not the error reporter."""
    if not dsn:
        return False
    sentry_sdk.init(dsn=dsn, environment=environment, release=release, send_default_pii=False,
                    include_local_variables=False, max_request_body_size="never", traces_sample_rate=0.0,
                    max_breadcrumbs=0,
                    before_send=scrub)  # type: ignore[arg-type]
    return True
