"""Every cookie the platform sets, and its attributes, in one place.

Under https (BASE_URL https://...) each name carries the `__Host-` prefix (RFC 6265bis, section
4.1.3.2; "cookie prefixes"): a browser then accepts the cookie only if it is Secure, has
Path=/ and no Domain, so neither a sibling subdomain nor a plain-http page can set or shadow it.
Over plain http (a developer's machine, the tests) the prefix would make browsers drop the
cookie, so the name is bare and the cookie is not Secure.

All are SameSite=Lax: a link from an e-mail must arrive logged in, and a form posted from
another site must not carry them. All are HttpOnly: no script of ours reads a cookie (scripts
send the CSRF token they find in the page).
"""

from dataclasses import dataclass

from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Scope

HOST_PREFIX = "__Host-"


@dataclass(frozen=True)
class CookieSpec:
    """One cookie: its bare name and how long it lives (`max_age` seconds; None: the browser
    session)."""

    base: str
    max_age: int | None = None

    def name(self, https: bool) -> str:
        return HOST_PREFIX + self.base if https else self.base

    def header(self, value: str, *, https: bool, max_age: int | None = None) -> bytes:
        """A Set-Cookie header value, for middlewares that write raw ASGI headers. `value` must
        already be cookie-safe (tokens, signed URL-safe strings, language codes)."""
        parts = [f"{self.name(https)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        lifetime = max_age if max_age is not None else self.max_age
        if lifetime is not None:
            parts.append(f"Max-Age={lifetime}")
        if https:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")

    def set(self, response: Response, value: str, *, https: bool, max_age: int | None = None) -> None:
        response.set_cookie(self.name(https), value, max_age=max_age if max_age is not None else self.max_age,
                            path="/", secure=https, httponly=True, samesite="lax")

    def delete(self, response: Response, *, https: bool) -> None:
        # A browser only replaces a Secure (and __Host-) cookie with one of the same attributes.
        response.delete_cookie(self.name(https), path="/", secure=https, httponly=True, samesite="lax")

    def read(self, request: Request) -> str:
        return request.cookies.get(self.name(request.app.state.settings.is_https), "")

    def read_scope(self, scope: Scope, *, https: bool) -> str:
        """The cookie's value from raw ASGI headers (for middlewares running before `Request`)."""
        return of_scope(scope).get(self.name(https), "")


def of_scope(scope: Scope) -> dict[str, str]:
    """The request's cookies by name, read from its raw ASGI headers exactly as the application
    reads them (`Request.cookies`: Starlette's parser, on the first Cookie header), so that a
    middleware deciding on a cookie (the page cache: is this visitor signed in?) never sees
    other cookies than the routes. Python's own parser reads nothing at all of a header holding
    a quote never closed, where Starlette's reads every other cookie."""
    raw = Headers(scope=scope).get("cookie")
    return cookie_parser(raw) if raw else {}


SESSION = CookieSpec("rv_session")  # max_age: the settings' session_days, given when set
CSRF_SEED = CookieSpec("rv_csrf")
FLASH = CookieSpec("rv_flash")
LANGUAGE = CookieSpec("rv_lang", max_age=365 * 86400)
# A sign-in with an OpenID Connect provider under way (app.account.oidc): a random token naming
# its server-side row, for the ten minutes the person may spend at the provider.
OIDC_ATTEMPT = CookieSpec("rv_oidc", max_age=600)
SHUFFLE_SEED = CookieSpec("rv_seed", max_age=7 * 86400)  # the "random" order of a call's ideas
