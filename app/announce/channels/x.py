"""X (formerly Twitter), through its API v2 with httpx (X publishes no maintained Python client
for v2 posting).

- A post: `POST /2/tweets` with `{"text", "media": {"media_ids"}, "reply": {"in_reply_to_tweet_id"}}`,
  answered 201 with `{"data": {"id", "text"}}` (https://docs.x.com/x-api/posts/create-post).
- An image: `POST /2/media/upload` (multipart `media`, `media_category=tweet_image`), answered
  with `{"data": {"id"}}`, then its alt text with `POST /2/media/metadata`
  (`{"id", "metadata": {"alt_text": {"text"}}}`; https://docs.x.com/x-api/media/).
- The user's OAuth 2.0 access token (scope tweet.write) in `Authorization: Bearer`.
- Errors: 429 with `x-rate-limit-reset` (epoch seconds) asks to wait; 401 means the token was
  refused; 403 refuses this post (a duplicate, a policy) for good; 5xx may pass.
- No idempotency key: before a retry, `find` reads the account's latest posts
  (`GET /2/users/me`, then `GET /2/users/{id}/tweets`) and takes one with the same text, links
  aside (X rewrites every link to a t.co address).
"""

import re
from typing import Any, ClassVar

import httpx

from app.announce.channels import http
from app.announce.channels.base import AuthFailed, OutgoingPost, RemoteRef, Reply, Transient
from app.announce.counting import URL
from app.db import Database
from app.i18n import N_
from app.settings import Settings

DEFAULT_API = "https://api.x.com"
RESET_HEADER = "x-rate-limit-reset"
FIND_LIMIT = 20
SPACES = re.compile(r"\s+")


def validate_config(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors: an API address, when given, is https (http only on this machine, for tests)."""
    api = str(config.get("api_url") or "").strip()
    if api and not http.api_address_ok(api):
        return {"api_url": N_("Give an address starting with https://.")}
    return {}


def without_links(text: str) -> str:
    """`text` with its links and runs of spaces removed: what survives X's t.co rewriting."""
    return SPACES.sub(" ", URL.sub("", text)).strip()


class XChannel:
    """A city's account on X (see the module's docstring)."""

    kind: ClassVar[str] = "x"
    idempotent: ClassVar[bool] = False
    collects_replies: ClassVar[bool] = False

    def __init__(self, *, token: str, api_url: str = DEFAULT_API, refresh_token: str = "", client_id: str = "",
                 client_secret: str = "") -> None:
        self.api_url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._refresh_token = refresh_token
        self._client = (client_id, client_secret)
        # New tokens after a refresh, for the delivery queue to store sealed (see `renewed_secrets`).
        self.renewed_secrets: dict[str, str] | None = None

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._refresh_token and self.renewed_secrets is None:
            self._refresh()  # the access token expired (X gives them two hours): once, then again
            response = self._send(method, path, **kwargs)
        if (error := http.error_for(response, "X API", RESET_HEADER)) is not None:
            raise error
        return http.json_object(response, "X API")

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return http.send(method, f"{self.api_url}{path}", headers=self._headers, **kwargs)

    def _refresh(self) -> None:
        """A new access token from the refresh token (OAuth 2.0 refresh_token grant, RFC 6749
        section 6; X: POST /2/oauth2/token with the client id, and HTTP Basic authentication for
        a confidential client; it answers with a new access token and a new refresh token, the
        old one then being spent). Raises AuthFailed when X refuses the refresh token."""
        client_id, client_secret = self._client
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token, "client_id": client_id}
        try:
            with http.client() as web:
                if client_secret:  # a confidential client authenticates (HTTP Basic, RFC 6749 2.3.1)
                    response = web.post(f"{self.api_url}/2/oauth2/token", data=form,
                                        auth=httpx.BasicAuth(client_id, client_secret))
                else:
                    response = web.post(f"{self.api_url}/2/oauth2/token", data=form)
        except httpx.HTTPError as exc:
            raise http.transport_error(exc) from exc
        if response.status_code in (400, 401):
            raise AuthFailed("X refused the refresh token: authorise the account again")
        if (error := http.error_for(response, "X token endpoint", RESET_HEADER)) is not None:
            raise error
        try:
            body = response.json()
            access, refresh = str(body["access_token"]), str(body.get("refresh_token") or self._refresh_token)
        except (ValueError, KeyError, TypeError) as exc:
            raise Transient("the X token endpoint answered with an unexpected shape") from exc
        self._headers = {"Authorization": f"Bearer {access}"}
        self._refresh_token = refresh
        self.renewed_secrets = {"access_token": access, "refresh_token": refresh}

    def _me(self) -> dict[str, Any]:
        data = self._call("GET", "/2/users/me").get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise Transient("the X API answered without the account")
        return data

    def check(self) -> str:
        """"@username". Raises AuthFailed for a refused token."""
        return "@" + str(self._me().get("username") or "")

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """The post, with its image and alt text, or as a reply when `in_reply_to` is set."""
        body: dict[str, Any] = {"text": post.text}
        if post.image is not None:
            uploaded = self._call("POST", "/2/media/upload", data={"media_category": "tweet_image"},
                                  files={"media": ("image", post.image.data, post.image.mime)})
            media_id = str((uploaded.get("data") or {}).get("id") or "")
            if not media_id:
                raise Transient("the X API answered the upload without a media id")
            self._call("POST", "/2/media/metadata",
                       json={"id": media_id, "metadata": {"alt_text": {"text": post.image.alt[:1000]}}})
            body["media"] = {"media_ids": [media_id]}
        if post.in_reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": post.in_reply_to.id}
        data = self._call("POST", "/2/tweets", json=body).get("data") or {}
        post_id = str(data.get("id") or "")
        if not post_id:
            raise Transient("the X API answered without a post id")
        return RemoteRef(id=post_id, url=f"https://x.com/i/web/status/{post_id}")

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """The account's latest post with the same text (links aside), if an earlier attempt made it."""
        me = self._me()
        listed = self._call("GET", f"/2/users/{me['id']}/tweets", params={"max_results": FIND_LIMIT})
        wanted = without_links(post.text)
        for item in listed.get("data") or []:
            if isinstance(item, dict) and item.get("id") and without_links(str(item.get("text", ""))) == wanted:
                return RemoteRef(id=str(item["id"]), url=f"https://x.com/i/web/status/{item['id']}")
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Delete the post; one already gone (404) counts as deleted."""
        try:
            self._call("DELETE", f"/2/tweets/{ref.id}")
        except Exception as exc:
            if "HTTP 404" not in str(exc):
                raise

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """Reading replies needs X's paid search access: not collected (see collects_replies)."""
        return []


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings, db: Database) -> XChannel:
    """The channel of a stored configuration (`api_url`, `client_id`; secrets `access_token`,
    and for a channel that outlives its two-hour access token `refresh_token` and, for a
    confidential client, `client_secret`)."""
    return XChannel(token=secrets.get("access_token", ""),
                    api_url=str(config.get("api_url") or "").strip() or DEFAULT_API,
                    refresh_token=secrets.get("refresh_token", ""), client_id=str(config.get("client_id") or ""),
                    client_secret=secrets.get("client_secret", ""))
