"""Sign in with OpenID Connect, against a real provider (oidc-provider on loopback, see
tests/support_oidc.py): first and later sign-ins, e-mail verification as the provider says it,
no automatic link on a matching e-mail, state bound to the browser and used once, redirect_uri
from BASE_URL, linking and unlinking from the account page, export and erasure. The ID token
checks at the end use tokens crafted in the test (signed with the provider's own key, or another
one): the real provider issues only correct ones."""

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.errors import BadSignatureError, UnsupportedAlgorithmError
from joserfc.jwk import RSAKey
from sqlmodel import Session, select

from app import cookies
from app.account import oidc, privacy
from app.account.models import OidcAttempt, Role, User, UserIdentity
from app.account.sessions import SESSION_COOKIE
from app.errors import Conflict, Forbidden
from app.main import create_app
from tests.factories import make_user
from tests.support import WebClient, exported_data, make_settings, run_coroutine
from tests.support_oidc import (
    CALLBACK,
    CLIENT_ID,
    KEY,
    Provider,
    oidc_provider,  # noqa: F401
    sign_in_at_provider,
)

PASSWORD = "les chaises de la Batte"


def browser(app: Any, host: str = "testserver") -> WebClient:
    web = WebClient(app, base_url=f"http://{host}")
    web.cookies.set(cookies.LANGUAGE.base, "en")  # messages as their msgids
    return web


@pytest.fixture
def web(tmp_path: Path, database_url: str, oidc_provider: Provider) -> Iterator[WebClient]:  # noqa: F811
    settings = make_settings(tmp_path / "var", database_url, oidc_providers=[oidc_provider.setting()],
                             allowed_hosts="other.example")
    with browser(create_app(settings)) as client:
        yield client


def start(web: WebClient, path: str = f"/account/oidc/{KEY}/start") -> str:
    """Press a provider's button; return the provider's authorization URL."""
    response = web.submit(path)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def sign_in(web: WebClient, login: str) -> httpx.Response:
    """The whole journey: button, provider's login form, back to the platform."""
    back = sign_in_at_provider(start(web), login)
    return web.get(back.removeprefix("http://testserver"), follow_redirects=False)


def shown(web: WebClient, response: httpx.Response) -> str:
    """The page the browser lands on after a redirect (with its flash message)."""
    assert response.status_code == 303, response.text
    return web.get(response.headers["location"]).text


def users(session: Session) -> list[User]:
    session.expire_all()
    return list(session.exec(select(User)).all())


def identities(session: Session) -> list[UserIdentity]:
    session.expire_all()
    return list(session.exec(select(UserIdentity)).all())


def test_first_sign_in_creates_an_account_and_the_next_one_finds_it(web: WebClient, session: Session,
                                                                    oidc_provider: Provider) -> None:  # noqa: F811
    login_page = web.get("/account/login").text
    assert "Sign in with Test ID" in login_page and f'action="/account/oidc/{KEY}/start"' in login_page
    assert "Sign in with Test ID" in web.get("/account/register").text

    authorize = start(web)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(oidc_provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and query["redirect_uri"] == [CALLBACK]
    # The provider requires PKCE: without the challenge it refuses.
    stripped = authorize.replace("code_challenge_method=S256", "").replace(
        "code_challenge=" + query["code_challenge"][0], "")
    refused = httpx.get(stripped, follow_redirects=False, timeout=10)
    assert "requires+PKCE" in refused.headers["location"]

    back = sign_in_at_provider(authorize, "alice")
    response = web.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert "Welcome, Alice Lambert!" in shown(web, response)
    [user] = users(session)
    assert (user.email, user.display_name, user.password_hash) == ("alice@example.org", "Alice Lambert", None)
    assert user.email_verified_at is not None  # the provider said email_verified: true
    [identity] = identities(session)
    assert (identity.issuer, identity.subject, identity.user_id) == (oidc_provider.issuer, "alice", user.id)
    assert "Alice Lambert" in web.get("/account").text

    web.submit("/account/logout")
    assert "Welcome, Alice Lambert!" in shown(web, sign_in(web, "alice"))
    assert len(users(session)) == 1 and len(identities(session)) == 1
    assert session.exec(select(OidcAttempt)).all() == []  # each attempt used once


def test_an_unverified_email_at_the_provider_is_not_verified_here(web: WebClient, session: Session) -> None:
    assert "Welcome, Bruno Dumont!" in shown(web, sign_in(web, "bruno"))
    [user] = users(session)
    assert user.email == "bruno@example.org" and user.email_verified_at is None


@pytest.mark.parametrize("role", [Role.citizen, Role.admin])
def test_the_email_of_an_existing_account_links_nothing(web: WebClient, session: Session, role: Role) -> None:
    owner = make_user(session, email="alice@example.org", role=role, password=PASSWORD)
    page = shown(web, sign_in(web, "alice"))
    assert "An account already uses the e-mail address Test ID gave us. Log in with your password first" in page
    assert SESSION_COOKIE not in web.cookies
    assert [u.id for u in users(session)] == [owner.id] and identities(session) == []


def test_a_replayed_or_foreign_state_is_refused(web: WebClient, session: Session) -> None:
    # Replayed: the browser's attempt is used once, even with its cookie copied back.
    attempt_cookie_start = start(web)
    token = web.cookies[cookies.OIDC_ATTEMPT.base]
    back = sign_in_at_provider(attempt_cookie_start, "alice").removeprefix("http://testserver")
    assert "Welcome" in shown(web, web.get(back, follow_redirects=False))
    web.submit("/account/logout")
    web.cookies.set(cookies.OIDC_ATTEMPT.base, token)
    page = shown(web, web.get(back, follow_redirects=False))
    assert "This sign-in has expired or was already used" in page and SESSION_COOKIE not in web.cookies

    # Foreign: another browser's code and state, brought back in this browser (login CSRF).
    with browser(web.app) as other:
        theirs = sign_in_at_provider(start(other), "bruno").removeprefix("http://testserver")
    start(web)  # this browser has an attempt of its own under way
    page = shown(web, web.get(theirs, follow_redirects=False))
    assert "The sign-in with Test ID did not succeed" in page and SESSION_COOKIE not in web.cookies
    # ... and with no attempt at all.
    web.cookies.delete(cookies.OIDC_ATTEMPT.base)
    assert "This sign-in has expired" in shown(web, web.get(theirs, follow_redirects=False))
    assert [u.email for u in users(session)] == ["alice@example.org"]


def test_redirect_uri_comes_from_base_url_never_from_the_host(web: WebClient, session: Session) -> None:
    with browser(web.app, host="other.example") as elsewhere:
        authorize = start(elsewhere)
        assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [CALLBACK]
        back = sign_in_at_provider(authorize, "alice")
        assert back.startswith(CALLBACK + "?")
    # A redirect_uri changed on the way is not one the provider accepts for this client.
    forged = authorize.replace("testserver", "attacker.example")
    refused = httpx.get(forged, follow_redirects=False, timeout=10)
    assert "attacker.example" not in refused.headers.get("location", "")


def test_linking_from_the_account_page_then_signing_in_with_it(web: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    web.login_as(anne)
    assert "Link my Test ID account" in web.get("/account").text
    back = sign_in_at_provider(start(web, f"/account/oidc/{KEY}/link"), "bruno")
    page = shown(web, web.get(back.removeprefix("http://testserver"), follow_redirects=False))
    assert "Your Test ID account is linked" in page and "bruno@example.org" in page
    [identity] = identities(session)
    assert identity.user_id == anne.id

    # The export names it; another browser signing in with it arrives in Anne's account.
    export = exported_data(web.submit("/account/export").content)
    assert [(i["provider"], i["subject"], i["email"]) for i in export["identities"]] == [
        ("test", "bruno", "bruno@example.org")]
    with browser(web.app) as phone:
        assert "Welcome, Anne Thiry!" in shown(phone, sign_in(phone, "bruno"))
    assert len(users(session)) == 1

    # Anne has a password: unlinking is allowed; deleting the account removes any identity.
    page = web.submit(f"/account/oidc/identities/{identity.id}/unlink", follow_redirects=True).text
    assert "The Test ID account is unlinked" in page and identities(session) == []
    back = sign_in_at_provider(start(web, f"/account/oidc/{KEY}/link"), "bruno")
    web.get(back.removeprefix("http://testserver"))
    assert len(identities(session)) == 1
    assert web.submit("/account/delete", {"password": PASSWORD}).status_code == 303
    assert identities(session) == []


def test_staff_accounts_are_never_linked(web: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator, password=PASSWORD)
    web.login_as(moderator)
    assert "Link my Test ID account" not in web.get("/account").text
    assert web.submit(f"/account/oidc/{KEY}/link").status_code == 403
    assert session.exec(select(OidcAttempt)).all() == []


def test_unlinking_the_last_way_in_is_refused(web: WebClient, session: Session) -> None:
    sign_in(web, "alice")
    [identity] = identities(session)
    page = web.submit(f"/account/oidc/identities/{identity.id}/unlink", follow_redirects=True).text
    assert "This is your only way to log in" in page
    assert len(identities(session)) == 1
    # Someone else's identity is not found.
    other = make_user(session, password=PASSWORD)
    with browser(web.app) as theirs:
        theirs.login_as(other)
        assert theirs.submit(f"/account/oidc/identities/{identity.id}/unlink").status_code == 404
    assert len(identities(session)) == 1


def test_without_providers_nothing_changes(client: WebClient) -> None:
    assert "oidc" not in client.get("/account/login").text
    assert "oidc" not in client.get("/account/register").text
    assert client.submit(f"/account/oidc/{KEY}/start").status_code == 404
    assert client.get(f"/account/oidc/{KEY}/callback?code=x&state=y").status_code == 404


# ID tokens crafted in the test, checked by the platform's Authlib client ----------------------

def crafted(oidc_provider: Provider, **changes: Any) -> dict[str, Any]:  # noqa: F811
    now = int(time.time())
    claims = {"iss": oidc_provider.issuer, "sub": "alice", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
              "nonce": "the-nonce", "email": "alice@example.org"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def check(web: WebClient, id_token: str) -> Any:
    provider = web.settings.oidc_provider(KEY)
    assert provider is not None
    client = oidc.client_for(web.app, provider)

    async def run() -> Any:
        await oidc.load_metadata(client)
        return await client.parse_id_token({"id_token": id_token, "access_token": "x"}, nonce="the-nonce")

    return run_coroutine(run())


def test_crafted_id_tokens_with_a_wrong_claim_or_key_are_refused(web: WebClient,
                                                                 oidc_provider: Provider) -> None:  # noqa: F811
    # The control: a correct token signed with the provider's key passes.
    assert check(web, oidc_provider.sign(crafted(oidc_provider)))["sub"] == "alice"
    now = int(time.time())
    wrong = {
        "audience": crafted(oidc_provider, aud="another-client"),
        "issuer": crafted(oidc_provider, iss="http://127.0.0.1:1"),
        "nonce": crafted(oidc_provider, nonce="another-nonce"),
        "no nonce": crafted(oidc_provider, nonce=None),
        "expired": crafted(oidc_provider, iat=now - 3600, exp=now - 600),
    }
    for name, claims in wrong.items():
        with pytest.raises(Exception) as refused:
            check(web, oidc_provider.sign(claims))
        assert refused.type.__module__.startswith("joserfc"), name
    other_key = RSAKey.generate_key(2048, parameters={"kid": oidc_provider.key.kid, "alg": "RS256"})
    with pytest.raises(BadSignatureError):
        check(web, oidc_provider.sign(crafted(oidc_provider), key=other_key))
    # alg=none: an unsigned token.
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f'{b64({"alg": "none", "typ": "JWT"})}.{b64(crafted(oidc_provider))}.'
    with pytest.raises(UnsupportedAlgorithmError):
        check(web, unsigned)


@pytest.mark.parametrize("entry", [
    {"key": "Not A Slug"},
    {"issuer": "http://idp.example.be"},  # plain http away from loopback
    {"issuer": "https://idp.example.be/?x=1"},
    {"scopes": "email profile"},  # no openid
])
def test_a_misconfigured_provider_is_refused_at_start(tmp_path: Path, entry: dict[str, Any]) -> None:
    base = {"key": "csam", "name": "CSAM", "issuer": "https://idp.example.be", "client_id": "c"}
    with pytest.raises(ValueError):
        make_settings(tmp_path, "sqlite://", oidc_providers=[{**base, **entry}])
    with pytest.raises(ValueError):  # two providers with one key
        make_settings(tmp_path, "sqlite://", oidc_providers=[base, base])
    good = make_settings(tmp_path, "sqlite://", oidc_providers=[{**base, "issuer": "https://idp.example.be/",
                                                                 "client_secret": "s3cr3t-value"}])
    provider = good.oidc_provider("csam")
    assert provider is not None and provider.issuer == "https://idp.example.be"
    assert "s3cr3t-value" not in repr(good)  # the secret never shows when settings are printed


# Deleting an account that has no password, confirmed by signing in again at the provider -----

def confirm_deletion(web: WebClient, login: str) -> httpx.Response:
    """Press "Confirm with Test ID" on the deletion page, sign in at the provider as `login`,
    and come back: the callback's response."""
    page = web.get("/account/delete").text
    assert "Confirm with Test ID" in page and f'action="/account/oidc/{KEY}/delete"' in page
    assert 'name="password"' not in page
    authorize = start(web, f"/account/oidc/{KEY}/delete")
    query = parse_qs(urlsplit(authorize).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]  # the provider asks again
    back = sign_in_at_provider(authorize, login)
    return web.get(back.removeprefix("http://testserver"), follow_redirects=False)


def test_an_account_without_password_deletes_itself_through_the_provider(web: WebClient,
                                                                          session: Session) -> None:
    shown(web, sign_in(web, "alice"))
    [alice] = users(session)
    assert alice.password_hash is None and len(identities(session)) == 1
    response = confirm_deletion(web, "alice")
    assert response.headers["location"] == "/"
    assert "Your account is deleted." in shown(web, response)
    assert SESSION_COOKIE not in web.cookies
    assert web.get("/account", follow_redirects=False).status_code in (302, 303, 401)
    session.expire_all()
    gone = session.get(User, alice.id)
    assert gone is not None and gone.deleted_at is not None and gone.email == f"deleted-{alice.id}@invalid"
    assert identities(session) == [] and session.exec(select(OidcAttempt)).all() == []
    # The same identity at the provider now makes a new, empty account.
    assert "Welcome, Alice Lambert!" in shown(web, sign_in(web, "alice"))
    assert [u.id for u in users(session) if u.deleted_at is None] != [alice.id]


def test_another_identity_cannot_confirm_the_deletion(web: WebClient, session: Session) -> None:
    with browser(web.app) as other:
        shown(other, sign_in(other, "bruno"))  # the other test account, password-less too
    shown(web, sign_in(web, "alice"))
    response = confirm_deletion(web, "bruno")
    assert response.headers["location"] == "/account/delete"
    page = shown(web, response)
    assert "This Test ID account is not linked to your account. Your account was not deleted." in page
    assert SESSION_COOKIE in web.cookies and "Alice Lambert" in web.get("/account").text
    assert all(u.deleted_at is None for u in users(session)) and len(users(session)) == 2
    assert len(identities(session)) == 2


def test_a_replayed_deletion_callback_deletes_nothing(web: WebClient, session: Session) -> None:
    shown(web, sign_in(web, "alice"))
    authorize = start(web, f"/account/oidc/{KEY}/delete")
    token = web.cookies[cookies.OIDC_ATTEMPT.base]
    back = sign_in_at_provider(authorize, "alice").removeprefix("http://testserver")
    # Brought back by another logged-in browser (no attempt of its own): refused.
    with browser(web.app) as other:
        stranger = make_user(session, password=PASSWORD)
        other.login_as(stranger)
        other.cookies.set(cookies.OIDC_ATTEMPT.base, token)
        assert "This sign-in has expired or was already used" in shown(other, other.get(back, follow_redirects=False))
    # The attempt was used by that refusal: the owner's browser cannot use it any more.
    page = shown(web, web.get(back, follow_redirects=False))
    assert "This sign-in has expired or was already used" in page
    assert all(u.deleted_at is None for u in users(session)) and len(identities(session)) == 1
    assert SESSION_COOKIE in web.cookies

    # After a real deletion, the same callback again changes nothing more.
    done = confirm_deletion(web, "alice")
    assert "Your account is deleted." in shown(web, done)
    web.login_as(make_user(session, email="carla@example.org", password=PASSWORD))
    replayed = web.get(done.request.url.raw_path.decode(), follow_redirects=False)
    assert "This sign-in has expired or was already used" in shown(web, replayed)
    assert {u.email for u in users(session) if u.deleted_at is None} == {stranger.email, "carla@example.org"}


def test_an_account_with_a_password_is_not_offered_the_provider(web: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    web.login_as(anne)
    back = sign_in_at_provider(start(web, f"/account/oidc/{KEY}/link"), "bruno")
    web.get(back.removeprefix("http://testserver"))
    page = web.get("/account/delete").text
    assert 'name="password"' in page and "Confirm with Test ID" not in page
    refused = web.submit(f"/account/oidc/{KEY}/delete", follow_redirects=True).text
    assert "Your account has a password: confirm the deletion with your password." in refused
    assert session.exec(select(OidcAttempt)).all() == []
    # Even a fresh sign-in with a linked identity does not replace the password.
    provider = web.settings.oidc_provider(KEY)
    [identity] = identities(session)
    assert provider is not None
    with pytest.raises(Conflict):
        privacy.delete_account_by_identity(session, web.settings, anne, provider=provider, issuer=identity.issuer,
                                           subject=identity.subject, auth_time=time.time())
    session.rollback()
    assert all(u.deleted_at is None for u in users(session))


def test_an_old_sign_in_at_the_provider_does_not_confirm(web: WebClient, session: Session,
                                                         oidc_provider: Provider) -> None:  # noqa: F811
    shown(web, sign_in(web, "alice"))
    [alice] = users(session)
    provider = web.settings.oidc_provider(KEY)
    assert provider is not None
    with pytest.raises(Forbidden) as stale:
        privacy.delete_account_by_identity(session, web.settings, alice, provider=provider,
                                           issuer=oidc_provider.issuer, subject="alice",
                                           auth_time=time.time() - 3600)
    assert stale.value.message == privacy.NOT_FRESH
    session.rollback()
    assert all(u.deleted_at is None for u in users(session)) and len(identities(session)) == 1
