"""Sign in with an OpenID Connect provider (configured in app.settings, `oidc_providers`):
Authlib's Starlette client, authorization code flow with PKCE (S256), `state` and `nonce`.

Where the flow's secrets wait while the person is at the provider. Authlib's Starlette client
keeps state, nonce, PKCE code verifier and redirect URI in `request.session`, which Starlette's
SessionMiddleware would fill from a signed cookie holding all of them, for every request of the
site. We do not add that middleware: the platform has its own server-side sessions and sets its
cookies only through app.cookies, and a signed cookie is replayable for as long as it is valid.
Instead each route here hands Authlib a plain dict as the request's session (`scope["session"]`)
for the one call that needs it: after `authorize_redirect` the dict holds what Authlib saved,
which goes into an `OidcAttempt` row; the browser gets only a random token naming that row (the
`rv_oidc` cookie, HttpOnly, SameSite=Lax, ten minutes), stored hashed like a session token, which
is what binds the attempt to this browser. When the browser comes back the row is deleted before
anything else (single use, whatever the outcome) and its dict given back to
`authorize_access_token`, which refuses a `state` it does not hold (a foreign or replayed one),
sends the code verifier, and checks the ID token's signature with the provider's JWKS, its
issuer, audience, expiry and nonce (`parse_id_token`).

`redirect_uri` is always built from BASE_URL (`settings.absolute_url`), never from the request.
An attempt to confirm an account deletion (purpose "delete", kept in the row's `data`) also asks
the provider to make the person sign in again (`prompt=login`, `max_age=0`); the callback then
hands the identity and its `auth_time` to app.account.privacy.delete_account_by_identity.

Verified residents (app.residents): after a sign-in or a link, the claims of the ID token (and of
the userinfo endpoint, when the provider's rules read a claim the ID token does not carry) are
judged by the provider's verification rules; a link is also how a person asks "verify me". The
sign-in or link stands whatever the verdict; the person is told when they became a verified
resident, why not (on a link), or that this identity already verifies another account.

Nothing secret is logged: not the code, the tokens, the state or the claims.
"""

import json
import logging
import secrets
from datetime import timedelta
from typing import Annotated, Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app import authz, cookies, links
from app.account import identities, privacy
from app.account.models import OidcAttempt, User
from app.account.sessions import end_session, start_session
from app.authz import Action
from app.clock import utcnow
from app.deps import AppSettings, CitizenUser, CurrentUser, DbSession
from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.residents import service as residents
from app.security import hash_token, safe_next
from app.settings import OidcProvider, Settings
from app.web import flash, redirect

log = logging.getLogger(__name__)
router = APIRouter(prefix="/account/oidc", tags=["account"], include_in_schema=False)

ATTEMPT_TTL = timedelta(minutes=10)
HTTP_TIMEOUT = 10.0  # seconds, for each request to the provider (metadata, JWKS, token)
FAILED = N_("The sign-in with {provider} did not succeed. Please try again.")
EXPIRED = N_("This sign-in has expired or was already used. Please start again.")
# What an attempt is for, kept in its `data` beside Authlib's keys (which all start with "_state_").
PURPOSE = "rv_purpose"
SIGN_IN, LINK, DELETE = "sign_in", "link", "delete"


def client_for(app: Any, provider: OidcProvider) -> StarletteOAuth2App:
    """The Authlib client for `provider`, made once per application (`app`, the FastAPI one)."""
    registry: OAuth | None = getattr(app.state, "oidc", None)
    if registry is None:
        registry = app.state.oidc = OAuth()
    client = registry.create_client(provider.key)
    if client is None:
        client = registry.register(
            name=provider.key, client_id=provider.client_id,
            client_secret=provider.client_secret.get_secret_value(),
            server_metadata_url=provider.metadata_url,
            client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT},
        )
    return client  # type: ignore[no-any-return]


async def load_metadata(client: StarletteOAuth2App) -> None:
    """The provider's metadata, with `none` struck from the ID token algorithms it says it
    uses: Authlib accepts the algorithms the provider lists, and an unsigned token proves nothing."""
    metadata = await client.load_server_metadata()
    algs = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    metadata["id_token_signing_alg_values_supported"] = [a for a in algs if str(a).lower() != "none"]


def _provider(settings: Settings, key: str) -> OidcProvider:
    provider = settings.oidc_provider(key)
    if provider is None:
        raise NotFound()
    return provider


def redirect_uri(settings: Settings, provider: OidcProvider) -> str:
    """Where the provider sends the browser back: on BASE_URL, whatever Host the request named."""
    return settings.absolute_url(links.path("account:oidc_callback", key=provider.key))


async def _begin(request: Request, session: Session, settings: Settings, provider: OidcProvider, *,
                 user_id: int | None, next_path: str, back: str, purpose: str = SIGN_IN) -> Response:
    client = client_for(request.app, provider)
    request.scope["session"] = {}
    # To confirm a deletion the provider must ask the person again, not reuse its own session.
    extra = {"prompt": "login", "max_age": 0} if purpose == DELETE else {}
    try:
        await load_metadata(client)
        sent = await client.authorize_redirect(request, redirect_uri(settings, provider), **extra)
    except (OAuthError, httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("OIDC provider %s unreachable or misconfigured: %s", provider.key, type(exc).__name__)
        return flash(request, redirect(back), FAILED, "error", provider=provider.name)
    token = secrets.token_urlsafe(32)
    data = {**request.scope["session"], PURPOSE: purpose}
    session.add(OidcAttempt(token_hash=hash_token(token), provider_key=provider.key, user_id=user_id,
                            data=json.dumps(data), next_path=next_path,
                            expires_at=utcnow() + ATTEMPT_TTL))
    # Attempts abandoned at the provider: gone once expired.
    session.execute(delete(OidcAttempt).where(col(OidcAttempt.expires_at) < utcnow()))
    session.commit()
    response = RedirectResponse(sent.headers["location"], status_code=303)
    cookies.OIDC_ATTEMPT.set(response, token, https=settings.is_https)
    return response


@router.post("/{key}/start", name="account:oidc_start")
async def start(request: Request, session: DbSession, settings: AppSettings, key: str,
                next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Send the browser to the provider to sign in (or create an account)."""
    provider = _provider(settings, key)
    return await _begin(request, session, settings, provider, user_id=None, next_path=safe_next(next),
                        back=links.path("account:login"))


@router.post("/{key}/link", name="account:oidc_link")
async def link_start(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
                     key: str) -> Response:
    """Send a logged-in citizen to the provider to link that account to theirs."""
    provider = _provider(settings, key)
    authz.require(user, Action.identity_link)
    return await _begin(request, session, settings, provider, user_id=user.id,
                        next_path=links.path("account:profile"), back=links.path("account:profile"),
                        purpose=LINK)


@router.post("/{key}/delete", name="account:oidc_delete")
async def delete_start(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
                       key: str) -> Response:
    """Send a logged-in person whose account has no password to the provider, to sign in again
    there and so confirm the deletion of their account (app.account.privacy)."""
    provider = _provider(settings, key)
    back = links.path("account:delete")
    if user.password_hash:
        return flash(request, redirect(back), privacy.HAS_PASSWORD, "error")
    return await _begin(request, session, settings, provider, user_id=user.id, next_path=back, back=back,
                        purpose=DELETE)


def _take_attempt(session: Session, token: str, provider: OidcProvider) -> OidcAttempt | None:
    """The attempt this browser started with this provider, deleted (used once); None when there
    is none, or it expired."""
    if not token or len(token) > 100:
        return None
    attempt = session.exec(select(OidcAttempt).where(OidcAttempt.token_hash == hash_token(token))
                           .with_for_update()).first()
    if attempt is None:
        return None
    session.delete(attempt)
    session.commit()  # used once, whatever happens next
    if attempt.provider_key != provider.key or attempt.expires_at < utcnow():
        return None
    return attempt


async def resident_claims(client: StarletteOAuth2App, token: dict[str, Any], claims: dict[str, Any],
                          needed: set[str]) -> dict[str, Any]:
    """The claims the verification rules judge: the ID token's, completed by the userinfo
    endpoint's when a claim the rules read (`needed`, top-level names) is not in the ID token.
    Userinfo counts only when its `sub` is the ID token's (OpenID Connect Core 5.3.4); the ID
    token wins where both say something. A provider that does not answer leaves the ID token's."""
    if not needed or needed <= claims.keys():
        return claims
    try:
        info = await client.userinfo(token=token)
    except (OAuthError, JoseError, httpx.HTTPError, ValueError, KeyError) as exc:
        log.info("OIDC userinfo of %s unavailable: %s", client.name, type(exc).__name__)
        return claims
    if not isinstance(info, dict) or str(info.get("sub")) != str(claims.get("sub")):
        return claims
    return {**info, **claims}


def _log_in(request: Request, session: Session, settings: Settings, user: User, target: str) -> RedirectResponse:
    old = cookies.SESSION.read(request)
    if old:
        end_session(session, old)  # rotate, as the password login does
    token = start_session(session, user, days=settings.session_days,
                          user_agent=request.headers.get("user-agent", ""))
    session.commit()
    response = redirect(target)
    cookies.SESSION.set(response, token, https=settings.is_https, max_age=settings.session_days * 86400)
    return flash(request, response, N_("Welcome, {name}!"), "success", name=user.display_name)


@router.get("/{key}/callback", name="account:oidc_callback")
async def callback(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
                   key: str) -> Response:
    """Where the provider sends the browser back: check everything, then log in, create the
    account, link the identity, or delete the account (the attempt's purpose)."""
    provider = _provider(settings, key)
    attempt = _take_attempt(session, cookies.OIDC_ATTEMPT.read(request), provider)
    data: dict[str, Any] = json.loads(attempt.data) if attempt is not None else {}
    purpose = data.pop(PURPOSE, LINK if attempt is not None and attempt.user_id is not None else SIGN_IN)
    linking, deleting = purpose == LINK, purpose == DELETE
    back = links.path({LINK: "account:profile", DELETE: "account:delete"}.get(purpose, "account:login"))

    def refuse(message: str, **params: Any) -> Response:
        session.rollback()
        response = flash(request, redirect(back), message, "error", **params)
        cookies.OIDC_ATTEMPT.delete(response, https=settings.is_https)
        return response

    if attempt is None:
        return refuse(EXPIRED)
    if (linking or deleting) and (user is None or attempt.user_id is None or user.id != attempt.user_id):
        return refuse(EXPIRED)  # the person logged out or changed account meanwhile
    client = client_for(request.app, provider)
    request.scope["session"] = data
    try:
        await load_metadata(client)
        token = await client.authorize_access_token(request)
    except (OAuthError, JoseError, httpx.HTTPError, ValueError, KeyError) as exc:
        # The class name only: descriptions may quote the code or the token.
        log.info("OIDC sign-in with %s refused: %s", provider.key, type(exc).__name__)
        return refuse(FAILED, provider=provider.name)
    userinfo = token.get("userinfo")
    if not userinfo:  # no ID token: an OAuth-only answer proves no identity
        return refuse(FAILED, provider=provider.name)
    residency: residents.Result | None = None
    taken: Conflict | None = None
    judged = dict(userinfo)
    if not deleting:
        needed = residents.claim_names(residents.rules(session, provider.key))
        judged = await resident_claims(client, token, judged, needed)
    try:
        claims = identities.Claims.from_id_token(provider, dict(userinfo))
        if deleting:
            assert user is not None
            auth_time = userinfo.get("auth_time")
            privacy.delete_account_by_identity(
                session, settings, user, provider=provider, issuer=claims.issuer, subject=claims.subject,
                auth_time=auth_time if isinstance(auth_time, int | float) else None)
        elif linking:
            assert user is not None
            authz.require(user, Action.identity_link)
            identities.link(session, user, provider, claims)
        else:
            found = identities.sign_in(session, provider, claims, language=request.state.language)
        person = user if linking else (None if deleting else found)
        if person is not None:
            was_resident = residents.is_resident(session, person)
            try:
                residency = residents.verify(session, settings, person, provider_key=provider.key,
                                             provider_name=provider.name, issuer=claims.issuer,
                                             subject=claims.subject, claims=judged)
            except Conflict as exc:
                taken = exc
            if residency is not None and residency.verified and was_resident and not linking:
                residency = None  # signed in as the resident they already were: nothing to say
    except ValidationFailed:
        return refuse(FAILED, provider=provider.name)
    except AppError as exc:
        return refuse(exc.message, **exc.context)
    if deleting:
        session.commit()
        request.state.user = None
        done = flash(request, redirect(links.path("page:home")), privacy.DELETED, "info")
        cookies.SESSION.delete(done, https=settings.is_https)
    elif linking:
        session.commit()
        done = flash(request, redirect(back), N_("Your {provider} account is linked. You can log in with it."),
                     "success", provider=provider.name)
    else:
        done = _log_in(request, session, settings, found, attempt.next_path)
    if taken is not None:
        flash(request, done, taken.message, "error", **taken.context)
    elif residency is not None and residency.verified:
        flash(request, done, residency.message, "success")
    elif residency is not None and residency.outcome is not None and linking:
        flash(request, done, residency.message, "error", **(residency.params or {}))
    cookies.OIDC_ATTEMPT.delete(done, https=settings.is_https)
    return done


@router.post("/identities/{identity_id}/unlink", name="account:oidc_unlink")
def unlink(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
           identity_id: int) -> Response:
    """Unlink one of the person's identities, unless it is their last way in."""
    back = redirect(links.path("account:profile"))
    try:
        identity = identities.unlink(session, user, identity_id)
    except NotFound:
        raise
    except AppError as exc:
        session.rollback()
        return flash(request, back, exc.message, "error", **exc.context)
    session.commit()
    provider = settings.oidc_provider(identity.provider_key)
    return flash(request, back, N_("The {provider} account is unlinked."), "success",
                 provider=provider.name if provider else identity.provider_key)
