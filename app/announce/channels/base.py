"""The contract every channel implements, and what it exchanges with the delivery queue.

A channel is a city's account on a network (Mastodon, Bluesky, a Facebook Page, X), its
newsletter, or a webhook endpoint of another city system. The delivery queue
(`app.announce.delivery`) hands it one `OutgoingPost` at a time with a key unique to that
delivery, and reads the outcome from what it returns or raises:

- returns a `RemoteRef`: the network accepted the post (its id and public address);
- raises `Transient`: a timeout, a 5xx, a malformed answer; retried with exponential backoff and
  jitter, then marked dead after the last attempt;
- raises `RateLimited(reset_at)`: nothing more is sent to this channel before `reset_at` (other
  channels keep going); the attempt is not counted as a failure;
- raises `AuthFailed`: the credentials were refused; the channel is marked "needs
  re-authorisation" and none of its deliveries is tried again until an administrator saves new
  credentials;
- raises `Rejected`: the network refused this post for good (4xx other than the above); no retry.

Exactly once: a network that honours an idempotency key (Mastodon's `Idempotency-Key`) is
given the same `key` on every attempt; for the others the queue calls `find(post, key=...)`
before any retry, and a post already there is recorded instead of posted again. A channel
whose records can be named by the client (Bluesky's record key) derives the name from `key`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Image:
    """A picture to attach: `data` the re-encoded file (JPEG or PNG), `mime` its type, `alt`
    its description for people who cannot see it (never empty when sent)."""

    data: bytes
    mime: str
    alt: str


@dataclass(frozen=True)
class OutgoingPost:
    """What one delivery posts. `text` is plain text in `language` (an interface language
    code), already ending with `link` when there is one (see `app.announce.channels.compose`);
    `link` an absolute http(s) URL or ""; `title` a short title for link cards (the call's or
    the announcement's first line); `image` None when nothing is attached; `in_reply_to` the
    post this one answers on the same network (a moderator's answer to a reply), else None.
    `texts` maps every language the announcement is written in to its post text (the
    newsletter writes to each subscriber in theirs); `meta` what other city systems read
    (webhooks): `announcement_id` (int), `event` (str), `call_slug` (str or None),
    `published_at` (ISO 8601 str), `url` (the announcement's page on BASE_URL); the queue adds
    `queued_at` (ISO 8601 str), when the delivery was first queued (for `find`). `visibility`
    overrides the channel's own for this post (Mastodon's "public", "unlisted", "private" or
    "direct": an answer under a mention keeps the mention's), None keeps the channel's."""

    text: str
    language: str
    link: str = ""
    title: str = ""
    image: Image | None = None
    in_reply_to: "RemoteRef | None" = None
    texts: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    visibility: str | None = None


@dataclass(frozen=True)
class RemoteRef:
    """A post as the network knows it: `id` its identifier there (a Mastodon status id, a
    Bluesky `at://` URI, a Graph API post id), `url` its public web address ("" when it has
    none), `extra` what else the channel needs later (Bluesky's `cid`), JSON-serialisable."""

    id: str
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """A public reply a post received on a network. `remote_id` is unique on that channel;
    `parent_id` the remote id of the post it answers; `text` plain text (markup removed);
    `author_handle` as the network shows it (`@name@server`, `name.bsky.social`);
    `author_url` and `url` public web addresses; `created_at` aware UTC."""

    remote_id: str
    parent_id: str
    text: str
    author_handle: str
    author_url: str
    url: str
    created_at: datetime


@dataclass(frozen=True)
class Mention:
    """A status that mentions the city's account, read from its notifications (Mastodon).
    `notification_id` orders what was read (numbers growing with time); `remote_id` the
    status's id, to answer under; `text` plain text (markup removed, the city's own handle
    left out); `author_handle` `@name@server`; `visibility` the status's ("public",
    "unlisted", "private", "direct"); `language` its declared language code or ""; `bot`
    whether its author's account says it is automated; `created_at` aware UTC."""

    notification_id: str
    remote_id: str
    text: str
    author_handle: str
    visibility: str
    language: str
    url: str
    bot: bool
    created_at: datetime


class DeliveryError(Exception):
    """The base of what a channel raises; its text is recorded for administrators (in
    English, never with a credential)."""


class Transient(DeliveryError):
    """Timeout, connection failure, 5xx or malformed answer: try again later."""


class RateLimited(DeliveryError):
    """The network asks to wait until `reset_at` (aware UTC) before anything more is sent."""

    def __init__(self, reset_at: datetime, message: str = "rate limited") -> None:
        super().__init__(message)
        self.reset_at = reset_at


class AuthFailed(DeliveryError):
    """The credentials were refused (401, revoked token, wrong app password)."""


class Rejected(DeliveryError):
    """The network refused this post for good (a 4xx other than 401 and 429)."""


class Channel(Protocol):
    """One configured channel, built from its stored configuration and secrets by its
    module's `build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings,
    db: Database) -> Channel` (config: what an administrator may see again, like an instance
    URL or a handle; secrets: tokens and passwords, never shown back).

    `kind` names the channel's type ("mastodon", "bluesky", "facebook", "x", "newsletter",
    "webhook"). `idempotent` says whether `post` may simply be called again with the same key
    (the network deduplicates); when False the queue calls `find` before every retry.
    `collects_replies` says whether `replies` returns anything."""

    kind: ClassVar[str]
    idempotent: ClassVar[bool]
    collects_replies: ClassVar[bool]

    def check(self) -> str:
        """Try the credentials (the administrators' "test the connection"): returns the
        account's name as the network shows it. Raises like `post`."""
        ...

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """Publish `post`; `key` (at most 64 ASCII characters) is the same on every attempt
        of one delivery. Raises Transient, RateLimited, AuthFailed or Rejected."""
        ...

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """The post an earlier attempt with `key` may have published before the worker could
        record it (killed, timed out after the network accepted), or None. Raises like `post`."""
        ...

    def delete(self, ref: RemoteRef) -> None:
        """Remove a published post (an announcement about an idea hidden since). Deleting one
        already gone succeeds. Raises like `post`; Rejected when the network cannot delete."""
        ...

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """The public replies under `ref` (direct and nested), oldest first, newer than the
        reply whose remote id is `since` when given. Raises like `post`."""
        ...
