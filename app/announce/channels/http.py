"""What the channels that speak plain HTTP share (Facebook's Graph API, X's API v2, webhooks):
one client with timeouts, and the reading of an HTTP answer into the contract's errors.

The statuses follow RFC 9110 and RFC 6585: 429 asks to wait (`Retry-After`, in seconds or as
a date, or a network's own reset header in epoch seconds), 401 means the credentials were
refused, other 4xx refuse this request for good, 5xx and timeouts may pass.
"""

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.announce.channels.base import AuthFailed, DeliveryError, RateLimited, Rejected, Transient
from app.clock import utcnow

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_WAIT = timedelta(minutes=1)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def api_address_ok(url: str) -> bool:
    """Whether `url` may receive a channel's token: https, or plain http to this machine only
    (the host itself, not a name that starts like it), without a user or password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)


def client() -> httpx.Client:
    """An HTTP client for one channel call: 10 s per read, 5 s to connect, no redirects
    (a redirected POST could post twice or leak a token to another host)."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": "Reinventons"})


def reset_time(response: httpx.Response, epoch_header: str = "") -> datetime:
    """When a 429 says to try again: `epoch_header` (epoch seconds) when given and present,
    else Retry-After (seconds or an HTTP date), else a minute from now; aware UTC."""
    now = utcnow()
    if epoch_header and (value := response.headers.get(epoch_header, "").strip()).isdigit():
        return max(now, datetime.fromtimestamp(int(value), tz=now.tzinfo))
    retry_after = response.headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return now + timedelta(seconds=int(retry_after))
    if retry_after:
        try:
            return max(now, parsedate_to_datetime(retry_after))
        except (TypeError, ValueError):
            pass
    return now + DEFAULT_WAIT


def error_for(response: httpx.Response, detail: str = "", epoch_header: str = "") -> DeliveryError | None:
    """The contract's error for an HTTP answer, or None for a 2xx. `detail` (English, no
    secret) is added to the message; the body is never copied (it may echo a token)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    text = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return RateLimited(reset_time(response, epoch_header), text)
    if status == 401:
        return AuthFailed(text)
    if status >= 500 or status in (408, 425):
        return Transient(text)
    return Rejected(text)


def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with `client()`'s timeouts; a timeout or a refused connection is Transient."""
    try:
        with client() as web:
            return web.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc


def json_object(response: httpx.Response, network: str) -> dict[str, Any]:
    """The JSON object a 2xx answer holds ({} for an empty one); Transient when it holds
    anything else (a proxy's error page, a truncated body). `network` names it in the error."""
    if response.status_code == 204 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise Transient(f"the {network} answered with something other than JSON") from exc
    if not isinstance(body, dict):
        raise Transient(f"the {network} answered with an unexpected shape")
    return body


def transport_error(exc: httpx.HTTPError) -> Transient:
    """A timeout or a connection failure, as the contract's Transient (no URL: it may hold a key)."""
    return Transient(f"{type(exc).__name__}: the network did not answer in time or refused the connection")
