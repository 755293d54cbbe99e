"""Cross-cutting protections: CSRF tokens, security headers, safe redirects.

CSRF uses a signed double submit: every visitor gets a random, HttpOnly `rv_csrf` cookie and
forms carry HMAC(secret, cookie). A forged form cannot know the cookie nor sign it. The check
is an application-wide dependency, so no state-changing route can forget it.

A route may be exempted only by name, with a proof of its own that replaces the token
(`app.state.csrf_exempt`, set in `create_app`): the one-click unsubscribes that mailbox
providers POST without cookies (RFC 8058: notifications, the newsletter), each proven by its
signed token (`one_click_proof`).
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from fastapi import Request
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import cookies
from app.errors import Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.maps.tiles import tile_source
from app.params import MAX_DB_INT
from app.settings import Settings
from app.share.video import frame_sources

CSRF_COOKIE = cookies.CSRF_SEED.base  # its name over http; see app.cookies for https
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A route name -> a check that the request proves itself some other way than by a CSRF token.
CsrfProof = Callable[[Request], Awaitable[bool]]
# The body mailbox providers POST to a List-Unsubscribe address (RFC 8058).
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"

def form_action_sources(settings: Settings | None) -> list[str]:
    """Where a form of ours may lead (CSP `form-action`, which browsers also apply to the
    redirects that answer a form): our origin, and the origin of each configured OpenID
    provider's issuer, since the sign-in button's POST is answered by a redirect to the
    provider's authorization endpoint (app.account.oidc; at the issuer's origin at the
    providers this platform knows: an endpoint elsewhere would need its origin here too)."""
    sources = ["'self'"]
    for provider in settings.oidc_providers if settings is not None else ():
        parts = urlsplit(provider.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("https", "http") and parts.netloc and origin not in sources:
            sources.append(origin)
    return sources


def content_security_policy(settings: Settings | None = None) -> str:
    """The Content-Security-Policy header of every page. Scripts and styles only from our
    origin: no inline code, no eval, nothing from a CDN. Frames only from the video players of
    `app.share.video.frame_sources` (YouTube's privacy-enhanced host and the configured PeerTube
    hosts, over https), which pages insert after a click; none other. Images from our origin and
    the configured map tile server only (`app.maps.tiles.tile_source`). Forms lead to our origin
    and to the sign-in providers' (`form_action_sources`)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src " + " ".join(["'self'", "data:", "blob:", *filter(None, [tile_source(settings)])]),
            "font-src 'self'",
            "connect-src 'self'",
            "frame-src " + " ".join(frame_sources(settings)),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action " + " ".join(form_action_sources(settings)),
            "frame-ancestors 'none'",
            "manifest-src 'self'",
            "worker-src 'self'",
        ]
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token to put in this visitor's forms."""
    seed = request.scope.get("state", {}).get("csrf_seed", "")
    return csrf_token_for(request.app.state.settings.resolved_secret_key, seed)


def one_click_proof(genuine: Callable[[Request, str], bool]) -> CsrfProof:
    """The CSRF exemption of a one-click unsubscribe route (RFC 8058): mailbox providers POST
    `List-Unsubscribe=One-Click`, form-encoded and without cookies, to the List-Unsubscribe
    address of an e-mail, so without a CSRF token; the signed token in the address (path
    parameter `token`) is the proof. `genuine(request, token)` says whether the token is one of
    ours (a forged or altered one is refused). The proof holds only for exactly that body."""

    async def proof(request: Request) -> bool:
        token = request.path_params.get("token", "")
        if not genuine(request, str(token)):
            return False
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return False
        form = await request.form()
        return form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE

    return proof


async def verify_csrf(request: Request) -> None:
    """Application-wide dependency: every unsafe request must carry a valid token."""
    if request.method in SAFE_METHODS:
        return
    exemptions: dict[str, CsrfProof] = getattr(request.app.state, "csrf_exempt", {})
    proof = exemptions.get(getattr(request.scope.get("route"), "name", None) or "")
    if proof is not None and await proof(request):
        return
    seed = cookies.CSRF_SEED.read(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    expected = csrf_token_for(request.app.state.settings.resolved_secret_key, seed)
    if not seed or not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden(N_("Your form has expired or was not sent from this site. Please try again."))


async def bounded_ids(request: Request) -> None:
    """Application-wide dependency: an id in the path (`{idea_id}`...) that no id column can hold
    (ids are positive and at most `app.params.MAX_DB_INT`, PostgreSQL's integer) names nothing, so
    it is a 404 on every database, before a query that PostgreSQL would refuse. Ids that are not
    numbers stay FastAPI's 422."""
    for name, value in request.path_params.items():
        if not name.endswith("_id") or not isinstance(value, str):
            continue
        try:
            number = int(value)
        except ValueError:
            continue
        if not 0 < number <= MAX_DB_INT:
            raise NotFound()


NUL = "\x00"
REFUSED_INPUT = N_("Some fields of the form are invalid. Please go back and check them.")


async def refuse_nul_characters(request: Request) -> None:
    """Application-wide dependency: nobody types a NUL character, and PostgreSQL refuses to
    store or even compare one (a 500). A path, query or form value holding one is refused
    whole, before anything reads the database. Uploaded files are bytes and are not checked."""
    if NUL in request.url.path or any(NUL in k or NUL in v for k, v in request.query_params.multi_items()):
        raise ValidationFailed({}, REFUSED_INPUT)
    if request.method in SAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        if any(NUL in key or (isinstance(value, str) and NUL in value) for key, value in form.multi_items()):
            raise ValidationFailed({}, REFUSED_INPUT)


def usable_csrf_seed(seed: str) -> bool:
    """Whether a visitor's CSRF seed cookie can be kept: present, and not a 100-character
    blob that would make every signed token (and the cookie header) grow without bound."""
    return 0 < len(seed) <= 100


def new_csrf_seed() -> str:
    """A new visitor's CSRF seed: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def security_headers(settings: Settings | None, *, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The security headers of every answer (raw ASGI headers, names in lower case): the
    Content-Security-Policy of `settings`, no MIME sniffing, no referrer to other origins but
    the origin, no framing, no camera, microphone or geolocation, a browsing context of its own;
    under https (`https`), Strict-Transport-Security too. `SecurityHeadersMiddleware` adds them
    to every answer that passes it; the 500 page, made outside it (app.handlers), adds them itself."""
    headers = [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return tuple(headers)


class SecurityHeadersMiddleware:
    """Adds security headers to every response and gives each visitor a CSRF seed cookie. The
    Content-Security-Policy frames the players of `settings`' PeerTube hosts (none without)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = False, settings: Settings | None = None) -> None:
        self.app = app
        self.secure_cookies = secure_cookies
        self.headers = security_headers(settings, https=secure_cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seed = cookies.CSRF_SEED.read_scope(scope, https=self.secure_cookies)
        new_seed = None
        if not usable_csrf_seed(seed):
            seed = new_seed = new_csrf_seed()
        scope.setdefault("state", {})["csrf_seed"] = seed

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _v in headers}
                headers.extend(header for header in self.headers if header[0] not in present)
                # Only pages carry forms: a cached image or JSON must never carry a cookie.
                is_html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if new_seed and is_html:
                    headers.append((b"set-cookie", cookies.CSRF_SEED.header(new_seed, https=self.secure_cookies)))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_next(value: str | None, default: str = "/") -> str:
    """A redirect target that stays on this site: a local absolute path, nothing else."""
    if not value:
        return default
    candidate = value.strip()
    if any(ch in candidate for ch in ("\\", "\r", "\n", "\t", "\x00")):
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate


class TrustedHostsMiddleware:
    """Starlette's TrustedHostMiddleware (a Host header outside `allowed_hosts` answered 400, or
    redirected to its `www.` form when that one is allowed), remembering the Host headers it
    let through: a request carrying one of them goes on without the header parsed and matched
    again (a few microseconds of every page-cache hit). Whether a Host header passes depends on
    its value alone, so a remembered one would pass again; every other request, any refusal
    included, still goes through Starlette's check. At most MAX_REMEMBERED are remembered (a
    wildcard pattern lets many through), forgotten all at once when full."""

    MAX_REMEMBERED = 256

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.passed: set[bytes] = set()
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts=allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _host_header(scope) in self.passed:
            await self.app(scope, receive, send)
            return
        await self.check(scope, receive, send)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = _host_header(scope)
            if host is not None:
                if len(self.passed) >= self.MAX_REMEMBERED:
                    # Full (a wildcard pattern lets many through; a flood of made-up
                    # subdomains fills it): start again, so that the hosts people use are soon
                    # remembered again rather than checked in full for good.
                    self.passed.clear()
                self.passed.add(host)
        await self.app(scope, receive, send)


def _host_header(scope: Scope) -> bytes | None:
    """The first Host header's raw value, the one Starlette's `Headers` reads; None without one."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value
    return None
