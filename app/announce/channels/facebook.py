"""A Facebook Page, through the Graph API with httpx (Meta publishes no maintained Python client).

- Text and link: `POST /{page-id}/feed` with `message` and `link`; with an image,
  `POST /{page-id}/photos` with the file as `source`, the text as `message` and the alt text
  as `alt_text_custom` (https://developers.facebook.com/docs/graph-api/reference/page/feed/,
  .../page/photos/). The answer's `id` (or `post_id` for a photo) names the post.
- The page access token goes in the `Authorization: Bearer` header, never in a URL.
- Errors come as HTTP 400 with `{"error": {"code", "is_transient", ...}}`: code 190 (and 102,
  10, 200: permissions) means the token must be renewed; codes 4, 17, 32 and 613 are rate
  limits (the wait is in `X-Business-Use-Case-Usage`/`X-App-Usage` as
  `estimated_time_to_regain_access`, in minutes); `is_transient` and codes 1 and 2 may pass
  (https://developers.facebook.com/docs/graph-api/guides/error-handling).
- The Graph API has no idempotency key: before a retry, `find` reads the page's latest posts
  and takes the one with the same message.
"""

import json
from datetime import timedelta
from typing import Any, ClassVar

import httpx

from app.announce.channels import http
from app.announce.channels.base import (
    AuthFailed,
    DeliveryError,
    OutgoingPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Reply,
    Transient,
)
from app.clock import utcnow
from app.db import Database
from app.i18n import N_
from app.settings import Settings

DEFAULT_GRAPH = "https://graph.facebook.com/v21.0"
AUTH_CODES = {10, 102, 190, 200}
RATE_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}
FIND_LIMIT = 25


def _graph_url(config: dict[str, Any]) -> str:
    return (str(config.get("graph_url") or "").strip() or DEFAULT_GRAPH).rstrip("/")


def validate_config(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors: the page id is digits; a Graph address, when given, is https (http only on
    this machine, for tests)."""
    errors: dict[str, str] = {}
    if not str(config.get("page_id", "")).strip().isdigit():
        errors["page_id"] = N_("A page id is made of digits (Page settings → About).")
    graph = str(config.get("graph_url") or "").strip()
    if graph and not http.api_address_ok(graph):
        errors["graph_url"] = N_("Give an address starting with https://.")
    return errors


def _wait_minutes(response: httpx.Response) -> int:
    """The longest `estimated_time_to_regain_access` (minutes) in Meta's usage headers, or 1."""
    longest = 1
    for header in ("x-business-use-case-usage", "x-app-usage", "x-page-usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        values = [usage] if isinstance(usage, dict) else []
        if isinstance(usage, dict):
            values += [item for group in usage.values() if isinstance(group, list) for item in group]
        for item in values:
            if isinstance(item, dict) and isinstance(item.get("estimated_time_to_regain_access"), int):
                longest = max(longest, item["estimated_time_to_regain_access"])
    return longest


def error_for(response: httpx.Response) -> DeliveryError | None:
    """The contract's error for a Graph API answer (see the module's docstring), None for 2xx."""
    if 200 <= response.status_code < 300:
        return None
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    code = error.get("code") if isinstance(error, dict) else None
    detail = f"Graph API error {code}" if code is not None else "Graph API error"
    if code in AUTH_CODES or response.status_code == 401:
        return AuthFailed(detail)
    if code in RATE_CODES or response.status_code == 429:
        return RateLimited(utcnow() + timedelta(minutes=_wait_minutes(response)), detail)
    if (isinstance(error, dict) and error.get("is_transient")) or code in TRANSIENT_CODES:
        return Transient(detail)
    return http.error_for(response, detail) or Rejected(detail)


class FacebookChannel:
    """A city's Facebook Page (see the module's docstring)."""

    kind: ClassVar[str] = "facebook"
    idempotent: ClassVar[bool] = False
    collects_replies: ClassVar[bool] = False

    def __init__(self, *, page_id: str, token: str, graph_url: str = DEFAULT_GRAPH) -> None:
        self.page_id = page_id
        self.graph_url = graph_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = http.send(method, f"{self.graph_url}/{path}", headers=self._headers, **kwargs)
        if (error := error_for(response)) is not None:
            raise error
        return http.json_object(response, "Graph API")

    def check(self) -> str:
        """The page's name. Raises AuthFailed for a refused token."""
        return str(self._call("GET", self.page_id, params={"fields": "name"}).get("name") or self.page_id)

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """A page post with the link (a link preview), or a photo post with its alt text."""
        if post.image is not None:
            body = self._call("POST", f"{self.page_id}/photos",
                              data={"message": post.text, "alt_text_custom": post.image.alt, "published": "true"},
                              files={"source": ("image", post.image.data, post.image.mime)})
            post_id = str(body.get("post_id") or body.get("id") or "")
        else:
            data = {"message": post.text}
            if post.link:
                data["link"] = post.link
            body = self._call("POST", f"{self.page_id}/feed", data=data)
            post_id = str(body.get("id") or "")
        if not post_id:
            raise Transient("the Graph API answered without a post id")
        return RemoteRef(id=post_id, url=f"https://www.facebook.com/{post_id}")

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """The page's latest post with exactly this message, if an earlier attempt made it."""
        body = self._call("GET", f"{self.page_id}/feed",
                          params={"fields": "id,message,permalink_url", "limit": FIND_LIMIT})
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("message") == post.text and item.get("id"):
                post_id = str(item["id"])
                return RemoteRef(id=post_id, url=str(item.get("permalink_url") or f"https://www.facebook.com/{post_id}"))
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Delete the post; one already gone (Graph error 100 on an unknown id) counts as deleted."""
        try:
            self._call("DELETE", ref.id)
        except Rejected as exc:
            if "error 100" not in str(exc):
                raise

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """Comments on a page need Meta's app review: not collected (see collects_replies)."""
        return []


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings, db: Database) -> FacebookChannel:
    """The channel of a stored configuration (`page_id`, `graph_url`; secret `page_access_token`)."""
    return FacebookChannel(page_id=str(config.get("page_id", "")).strip(),
                           token=secrets.get("page_access_token", ""), graph_url=_graph_url(config))
