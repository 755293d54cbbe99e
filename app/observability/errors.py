"""Error reporting to Sentry (or a Sentry-compatible service: GlitchTip, Bugsink) when
`SENTRY_DSN` is set, through the official sentry-sdk. What leaves the server is bounded to what
a developer needs and holds no one's personal data or secrets: no cookies, no query strings
(one-time tokens travel there), no form bodies, no authorization or CSRF headers, no user, no
IP address (`send_default_pii=False`), no local variables, no breadcrumbs (earlier log lines and
outgoing requests' URLs, which can name a person or carry a token); each event carries the
request id.

The same rule holds for what the platform writes itself: an exception's text goes to a log
line, a stored error (an outbox message's, a delivery's) or a staff page only through
`describe` or `safe_text`, which keep what an administrator needs (the type, the status, the
host and path) and drop the secrets a URL or a header can carry."""

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
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")


def mask_path(url: str) -> str:
    """`url` without its query string and fragment (one-time tokens travel there: an OAuth
    answer's `#access_token=`) and with the secret segment of a token path masked
    ("https://x/unsubscribe/[token]/one-click")."""
    return TOKEN_IN_PATH.sub(r"\1[token]", _QUERY_OR_FRAGMENT.split(url, 1)[0])

# A location in a text (an exception's message): a URL with its scheme, or a bare absolute
# path (requests' "Max retries exceeded with url: /search?key=..."), up to a space or a quote.
# A scheme starts where no scheme character precedes it: with `\b` a run such as "a.a.a..." was
# tried from each of its dots to its end, quadratic in its length (32 KB took 1.5 s).
_LOCATION = re.compile(r"""(?:(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*://|(?<![\w.~%)-])/)[^\s'"<>`]*""")
# A URL's user and password (`smtp://user:pass@host`, `https://user:key@host`): everything
# between the scheme and the last "@" before the path ("@" unescaped in a password included).
_USERINFO = re.compile(r"""(://)(?:[^\s'"<>`/?#@]*@)+""")
# A credential outside a URL: the value of an Authorization header written out, a bearer
# token, and a `name=value` (or JSON `"name": "value"`) whose name says it is a secret (a form
# body, a libpq connection string).
# The name is matched by its end alone (`access_token=` by `token=`): matched from its start
# (`\b[\w-]*token`), a run such as "a-a-a-..." was scanned from each of its hyphens to its end,
# quadratic (8 KB of it took 6 s, 32 KB two minutes: a text a remote server sends can be that).
_SECRET_NAME = r"(?:token|secret|password|passwd|api[_-]?key|signature)"  # noqa: S105 - names, not a secret
_CREDENTIALS = (
    re.compile(r"""(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|digest|token)\s+)?"""
               r"""[^\s"',;}]+"""),
    re.compile(r"(?i)(\bbearer\s+)[\w.~+/-]+=*"),
    re.compile(rf"""(?i)({_SECRET_NAME}\s*=\s*["']?|{_SECRET_NAME}["']\s*:\s*["']?)(?!\[hidden\])[^\s&"',;)}}\]]+"""),
)


def _masked_location(match: re.Match[str]) -> str:
    return mask_path(_USERINFO.sub(r"\1[credentials]@", match.group()))


def safe_text(text: str) -> str:
    """`text` (an exception's message, a reason a network gave) fit for a log line, a stored
    error or a staff page: every URL and path in it without its query string and fragment, its
    user and password (`[credentials]@`) and the segment of a token path (`mask_path`), and the
    value of an Authorization header, a bearer token or a `password=`/`token=`/`secret=`/
    `api_key=` pair masked (`[hidden]`). The scheme, host, port and path stay: what an
    administrator needs to find the failing service. Idempotent."""
    text = _LOCATION.sub(_masked_location, text)
    for credential in _CREDENTIALS:
        text = credential.sub(r"\1[hidden]", text)
    return text


def describe(exc: BaseException) -> str:
    """One line naming `exc` for a log, a stored error or a staff page: its type's name and its
    text made safe (`safe_text`), e.g. "HTTPStatusError: Client error '401 Unauthorized' for url
    'https://api.example.net/v1/post'...". An httpx error's text holds the request's full URL,
    query string and user included; a library's may hold anything it was given."""
    text = safe_text(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def scrub(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """`event` (Sentry's event payload) without what may hold personal data or secrets (its
    exceptions' texts and log message made safe: `safe_text`), and tagged with the current
    request id. Sentry's `before_send` hook."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "query_string", "data", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = mask_path(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}
    # An exception's text and a logged message go through `safe_text`, as they do in the logs:
    # an httpx error's text holds the request's full URL.
    exceptions = event.get("exception")
    for exception in exceptions.get("values") or [] if isinstance(exceptions, dict) else []:
        if isinstance(exception, dict) and isinstance(exception.get("value"), str):
            exception["value"] = safe_text(exception["value"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = safe_text(logentry[key])
        if isinstance(logentry.get("params"), list):
            logentry["params"] = [safe_text(p) if isinstance(p, str) else p for p in logentry["params"]]
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
