"""The Bluesky channel: a city's account on an AT Protocol server (its PDS, https://bsky.social
for most), posting with the `atproto` client (https://atproto.blue).

- **Log in** with the handle and an app password (com.atproto.server.createSession), without
  fetching the Bluesky profile (a PDS alone serves no `app.bsky.actor.getProfile`). The session
  is kept for the life of the process, shared by every channel built with the same service,
  handle and password (a PDS rate-limits createSession: 30 per 5 minutes and 300 a day per
  account and address, @atproto/pds api/com/atproto/server/createSession.ts), refreshed
  by the client when its token expires, and opened again once when the server refuses it.
- **Post** (`app.bsky.feed.post`): the text with a `app.bsky.richtext.facet#link` facet on every
  http(s) address in it (offsets in UTF-8 bytes, as the lexicon says), `langs` the post's
  language, and an embed: the image (com.atproto.repo.uploadBlob, `app.bsky.embed.images` with
  its alt text and aspect ratio) when there is one, else a link card (`app.bsky.embed.external`:
  the link, the post's title; no thumbnail, the platform has no picture of its own to give). A
  text over Bluesky's 300 graphemes (or the lexicon's 3000 bytes) is refused (Rejected), never
  cut. A reply names its parent and the thread's root (the parent's own root when the parent
  is itself a reply, read from the account's PDS, or from the thread service for a post on
  another server).
- **Exactly once** without an idempotency key: the record key is derived from the delivery's
  `key` (see `record_key`), so every attempt of one delivery writes to the same
  `at://did/app.bsky.feed.post/<rkey>`; a second createRecord on an existing key fails (the
  reference PDS answers 500), and `find` reads that key with com.atproto.repo.getRecord.
- **Replies** come from a service that serves `app.bsky.feed.getPostThread` (an AppView, like
  https://public.api.bsky.app), configured as `thread_service`: the PDS alone does not index
  threads, so without one the channel collects nothing (`collects_replies` False).
- **Errors**, mapped in `delivery_error`: no answer, a timeout or a 5xx is Transient; a 429 is
  RateLimited until the `ratelimit-reset` header (epoch seconds); a 401, or a session the
  server refuses even after logging in again, is AuthFailed; any other 4xx is Rejected.

The app password is never logged, shown or put in an error text; errors quote the server's
`error` and `message` fields, which never contain it.
"""

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
import regex
from atproto import Client, models  # type: ignore[attr-defined]
from atproto_client.exceptions import RequestErrorBase
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError
from PIL import Image as PILImage

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
from app.announce.counting import URL, graphemes
from app.db import Database
from app.i18n import LANGUAGE_NAMES, N_
from app.observability.errors import describe
from app.settings import Settings

log = logging.getLogger(__name__)

COLLECTION = "app.bsky.feed.post"
WEB = "https://bsky.app"  # where a post can be seen, whatever PDS hosts it
MAX_GRAPHEMES = 300  # app.bsky.feed.post: text maxGraphemes
MAX_TEXT_BYTES = 3000  # app.bsky.feed.post: text maxLength (bytes in UTF-8)
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images#image: image maxSize
TIMEOUT = httpx.Timeout(20.0, connect=10.0)  # seconds; an image upload is the slowest call
RATE_LIMIT_FALLBACK = timedelta(minutes=5)  # a 429 without a usable ratelimit-reset header
SESSION_REFUSED = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as the TID spec says
# A handle is a domain name (https://atproto.com/specs/handle); a DID may be given instead.
HANDLE = regex.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DID = regex.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

T = TypeVar("T")


def record_key(key: str) -> str:
    """The record key (rkey) of the post a delivery with `key` publishes: a valid TID (13
    characters of the base32-sortable alphabet, https://atproto.com/specs/tid), the same for
    every attempt of the delivery and, to 60 bits, different for every other key.

    Derivation: the first 8 bytes of SHA-256(`key` in UTF-8), as a big-endian integer, keep their
    low 60 bits: the TID's top bit is 0 as the spec requires, its 53-bit "microseconds since
    1970" field stays below 2^50 µs (before 2006: never in the future, which servers may refuse)
    and its 10-bit clock identifier is hash bits too. The integer is written in 13 base32-sortable
    characters, most significant first."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") & ((1 << 60) - 1)
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def link_facets(text: str) -> list[models.AppBskyRichtextFacet.Main]:
    """A link facet for every http(s) address in `text` (as `app.announce.counting` finds them),
    with `byteStart`/`byteEnd` counted in UTF-8 bytes (an "é" is 2, most emoji 4)."""
    facets = []
    for match in URL.finditer(text):
        start = len(text[:match.start()].encode())
        end = start + len(match.group().encode())
        facets.append(models.AppBskyRichtextFacet.Main(
            index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
            features=[models.AppBskyRichtextFacet.Link(uri=match.group())]))
    return facets


def delivery_error(exc: Exception) -> DeliveryError:
    """What the delivery queue reads from a failed call (see the module's docstring). `exc` is
    an `atproto` error (with the HTTP response when one arrived) or an httpx error; the text
    names the status and the server's `error: message`, never a credential."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        status = exc.response.status_code
        detail = f"Bluesky answered {exc}"
        if status == 429:
            headers = exc.response.headers
            reset_at = datetime.now(UTC) + RATE_LIMIT_FALLBACK
            with contextlib.suppress(ValueError, OverflowError, OSError):
                reset_at = datetime.fromtimestamp(int(headers.get("ratelimit-reset", "")), tz=UTC)
            return RateLimited(reset_at, detail)
        if status == 401 or (status == 400 and _error_name(exc) in SESSION_REFUSED):
            return AuthFailed(detail)
        if 400 <= status < 500:
            return Rejected(detail)
        return Transient(detail)
    if isinstance(exc, RequestErrorBase | httpx.HTTPError):
        return Transient(f"Bluesky did not answer: {type(exc).__name__}")
    if isinstance(exc, AtProtocolError):  # a malformed answer the client could not read
        return Transient(f"Bluesky's answer could not be read: {type(exc).__name__}")
    return Transient(describe(exc))


def _error_name(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    return str(getattr(content, "error", "") or "")


def _status(exc: Exception) -> int | None:
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        return exc.response.status_code
    return None


@dataclass
class _Session:
    """A logged-in client, shared by the channels of one account within the process."""

    client: Client
    did: str
    handle: str
    lock: threading.Lock


_sessions: dict[tuple[str, str, str], _Session] = {}
_sessions_lock = threading.Lock()


def _session_key(service: str, handle: str, password: str) -> tuple[str, str, str]:
    # The password's hash, so that new credentials open a new session; never the password.
    return service, handle.lower(), hashlib.sha256(password.encode()).hexdigest()


class BlueskyChannel:
    """A city's Bluesky account (see the module's docstring). `service` the PDS's base URL,
    `handle` the account's handle (or DID), `app_password`, `language` the default of `langs`,
    `thread_service` the base URL of an AppView for replies, or ""."""

    kind: ClassVar[str] = "bluesky"
    idempotent: ClassVar[bool] = False
    collects_replies: bool

    def __init__(self, *, service: str, handle: str, app_password: str, language: str = "",
                 thread_service: str = "") -> None:
        self.service = service.rstrip("/")
        self.handle = handle
        self._password = app_password
        self.language = language
        self.thread_service = thread_service.rstrip("/")
        self.collects_replies = bool(self.thread_service)

    def __repr__(self) -> str:
        return f"BlueskyChannel(service={self.service!r}, handle={self.handle!r})"

    # -- the session ----------------------------------------------------------------------

    def _login(self) -> _Session:
        client = Client(base_url=self.service, request=Request(timeout=TIMEOUT))
        try:
            client.login(self.handle, self._password, fetch_bsky_profile=False)
        except Exception as exc:  # noqa: BLE001 - mapped for the queue
            raise delivery_error(exc) from None
        session = client._session  # the atproto client keeps the session's DID and handle here
        assert session is not None
        return _Session(client, session.did, session.handle, threading.Lock())

    def _session(self, *, fresh: bool = False) -> _Session:
        key = _session_key(self.service, self.handle, self._password)
        with _sessions_lock:
            current = _sessions.get(key)
            if current is None or fresh:
                # A refused login forgets the old session: nothing more is sent with it.
                _sessions.pop(key, None)
                current = _sessions[key] = self._login()
                log.info("bluesky: logged in to %s as %s", self.service, current.handle)
            return current

    def _call(self, action: Callable[[_Session], T]) -> T:
        """`action` with the process's session; once more with a new session when the server
        refuses the current one (expired, revoked); errors mapped by `delivery_error`."""
        session = self._session()
        for attempt in (1, 2):
            try:
                with session.lock:
                    return action(session)
            except Exception as exc:  # noqa: BLE001 - mapped for the queue
                error = delivery_error(exc)
                if isinstance(error, AuthFailed) and attempt == 1:
                    session = self._session(fresh=True)
                    continue
                raise error from None
        raise AssertionError("unreachable")

    # -- the contract ---------------------------------------------------------------------

    def check(self) -> str:
        """The account's handle, after logging in again with the stored app password (so that a
        revoked one is found). Raises AuthFailed when the server refuses it."""
        session = self._session(fresh=True)
        return session.handle

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """Publishes `post` at the record key `record_key(key)` (see the module's docstring).
        Raises Rejected for a text over 300 graphemes or 3000 bytes, or an image over 1 MB."""
        n, size = graphemes(post.text), len(post.text.encode())
        if n > MAX_GRAPHEMES:
            raise Rejected(f"The text has {n} graphemes; Bluesky accepts {MAX_GRAPHEMES} at most.")
        if size > MAX_TEXT_BYTES:
            raise Rejected(f"The text has {size} bytes in UTF-8; Bluesky accepts {MAX_TEXT_BYTES} at most.")
        if post.image is not None and len(post.image.data) > MAX_IMAGE_BYTES:
            raise Rejected(f"The image has {len(post.image.data)} bytes; Bluesky accepts {MAX_IMAGE_BYTES} at most.")
        rkey = record_key(key)
        reply = self._reply_ref(post.in_reply_to) if post.in_reply_to is not None else None

        def create(session: _Session) -> RemoteRef:
            record = models.AppBskyFeedPost.Record(
                text=post.text, created_at=session.client.get_current_time_iso(),
                langs=[post.language or self.language] if (post.language or self.language) else None,
                facets=link_facets(post.text) or None, embed=self._embed(session, post), reply=reply)
            created = session.client.app.bsky.feed.post.create(session.did, record, rkey=rkey)
            return self._ref(session, created.uri, created.cid)

        try:
            return self._call(create)
        except Transient:
            # An earlier attempt may have written this record key: the server then refuses a
            # second one (the reference PDS with a 500). The post is there: that is success.
            found = self.find(post, key=key)
            if found is not None:
                return found
            raise

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """The post at `record_key(key)` in the account's repository, or None
        (com.atproto.repo.getRecord)."""
        rkey = record_key(key)

        def get(session: _Session) -> RemoteRef | None:
            try:
                found = session.client.app.bsky.feed.post.get(session.did, rkey)
            except RequestErrorBase as exc:
                if _status(exc) == 400 and _error_name(exc) == "RecordNotFound":
                    return None
                raise
            return self._ref(session, found.uri, found.cid or "")

        return self._call(get)

    def delete(self, ref: RemoteRef) -> None:
        """Deletes the post (com.atproto.repo.deleteRecord); one already gone succeeds. Raises
        Rejected for a post of another account."""
        did, collection, rkey = _parse_uri(ref.id)

        def remove(session: _Session) -> None:
            if did != session.did or collection != COLLECTION:
                raise Rejected(f"{ref.id} is not a post of this account")
            session.client.app.bsky.feed.post.delete(session.did, rkey)

        self._call(remove)

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """The replies under `ref` from `thread_service` (app.bsky.feed.getPostThread, without
        a session: an AppView serves public threads), nested ones included, oldest first; only
        those after the reply `since` when it is among them. [] without a thread service."""
        if not self.thread_service:
            return []
        client = Client(base_url=self.thread_service, request=Request(timeout=TIMEOUT))
        try:
            thread = client.app.bsky.feed.get_post_thread(
                models.AppBskyFeedGetPostThread.Params(uri=ref.id, depth=100, parent_height=0)).thread
        except Exception as exc:  # noqa: BLE001 - mapped for the queue
            raise delivery_error(exc) from None
        found: list[Reply] = []
        _collect(thread, found)
        found.sort(key=lambda r: (r.created_at, r.remote_id))
        if since is not None:
            ids = [r.remote_id for r in found]
            if since in ids:
                found = found[ids.index(since) + 1:]
        return found

    # -- parts of a post ------------------------------------------------------------------

    def _ref(self, session: _Session, uri: str, cid: str) -> RemoteRef:
        did, _, rkey = _parse_uri(uri)
        return RemoteRef(id=uri, url=f"{WEB}/profile/{did}/post/{rkey}", extra={"cid": cid})

    def _embed(self, session: _Session, post: OutgoingPost) -> Any:
        if post.image is not None:
            # The bytes as the request's content, with their type (the client would send them
            # as httpx's deprecated `data=` and as */*).
            blob = session.client.com.atproto.repo.upload_blob(
                None, content=post.image.data, headers={"Content-Type": post.image.mime}).blob  # type: ignore[arg-type]
            return models.AppBskyEmbedImages.Main(images=[models.AppBskyEmbedImages.Image(
                image=blob, alt=post.image.alt, aspect_ratio=_aspect_ratio(post.image.data))])
        if post.link:
            return models.AppBskyEmbedExternal.Main(external=models.AppBskyEmbedExternal.External(
                uri=post.link, title=post.title or post.link, description=""))
        return None

    def _reply_ref(self, parent: RemoteRef) -> models.AppBskyFeedPost.ReplyRef:
        """The parent and the root of a reply to `parent`: its `cid` and its own root from
        `parent.extra` when there (`cid`, `root_uri`, `root_cid`), else read from its record."""
        cid = str(parent.extra.get("cid") or "")
        root_uri, root_cid = str(parent.extra.get("root_uri") or ""), str(parent.extra.get("root_cid") or "")
        if not cid or not root_uri:
            found = self._read_post(parent.id)
            cid = found.cid or cid
            if found.value.reply is not None:
                root_uri, root_cid = found.value.reply.root.uri, found.value.reply.root.cid
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.id, cid=cid)
        root_ref = models.ComAtprotoRepoStrongRef.Main(uri=root_uri, cid=root_cid) if root_uri else parent_ref
        return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)

    def _read_post(self, uri: str) -> Any:
        """A post's record (com.atproto.repo.getRecord): from the account's PDS, which holds its
        own posts, else from the thread service (an AppView serves every repository's records,
        a citizen's on another PDS too). Raises Rejected when neither has it."""
        did, _, rkey = _parse_uri(uri)
        try:
            return self._call(lambda session: session.client.app.bsky.feed.post.get(did, rkey))
        except Rejected as exc:
            if not self.thread_service:
                raise Rejected(f"The post to answer cannot be read: {exc}") from None
        client = Client(base_url=self.thread_service, request=Request(timeout=TIMEOUT))
        try:
            return client.app.bsky.feed.post.get(did, rkey)
        except Exception as exc:  # noqa: BLE001 - mapped for the queue
            error = delivery_error(exc)
            if isinstance(error, Rejected):
                raise Rejected(f"The post to answer cannot be read: {error}") from None
            raise error from None


def _aspect_ratio(data: bytes) -> models.AppBskyEmbedDefs.AspectRatio | None:
    try:
        with PILImage.open(BytesIO(data)) as img:
            width, height = img.size
    except Exception:  # noqa: BLE001 - optional: the post goes without it
        return None
    return models.AppBskyEmbedDefs.AspectRatio(width=width, height=height) if width and height else None


def _parse_uri(uri: str) -> tuple[str, str, str]:
    """`at://did/collection/rkey` as (did, collection, rkey). Raises Rejected otherwise."""
    parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
    if len(parts) != 3 or not all(parts):
        raise Rejected(f"Not a Bluesky post address: {uri[:200]}")
    return parts[0], parts[1], parts[2]


def _collect(node: Any, into: list[Reply]) -> None:
    """The replies under a thread view (app.bsky.feed.defs#threadViewPost), depth first;
    not-found and blocked posts are skipped."""
    for child in getattr(node, "replies", None) or []:
        post = getattr(child, "post", None)
        if post is None:
            continue
        record = post.record
        parent = getattr(getattr(record, "reply", None), "parent", None)
        created = _parse_time(getattr(record, "created_at", None) or post.indexed_at)
        _, _, rkey = _parse_uri(post.uri)
        author = post.author
        into.append(Reply(
            remote_id=post.uri, parent_id=parent.uri if parent is not None else "",
            text=str(getattr(record, "text", "") or ""), author_handle=author.handle,
            author_url=f"{WEB}/profile/{author.handle}", url=f"{WEB}/profile/{author.handle}/post/{rkey}",
            created_at=created))
        _collect(child, into)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _url_error(value: str, *, required: bool) -> str | None:
    """The msgid for a bad server address, or None: https (http only on this machine, for tests),
    a host, nothing after it but a path."""
    if not value:
        return N_("Enter the server’s address, starting with https://.") if required else None
    parts = urlsplit(value)
    if (parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password
            or parts.query or parts.fragment):
        return N_("Enter the server’s address, starting with https://.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        return N_("The address must start with https://.")
    return None


def validate_config(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors ({field: English msgid}) of a Bluesky channel's configuration: `service`
    and `thread_service` https addresses, `handle` a handle (`name.bsky.social`, without "@") or
    a DID, `language` an interface language, `app_password` given. Does not call the network:
    `check` does."""
    errors: dict[str, str] = {}
    for name, required in (("service", True), ("thread_service", False)):
        error = _url_error(str(config.get(name) or "").strip(), required=required)
        if error:
            errors[name] = error
    handle = str(config.get("handle") or "").strip()
    if not (HANDLE.match(handle) or DID.match(handle)):
        errors["handle"] = N_("Enter the account’s handle, like liege.bsky.social, without @.")
    if str(config.get("language") or "") not in LANGUAGE_NAMES:
        errors["language"] = N_("Choose one of the site’s languages.")
    if not str(secrets.get("app_password") or "").strip():
        errors["app_password"] = N_("Enter an app password of the account.")
    return errors


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings, db: Database) -> BlueskyChannel:
    """The channel of a stored Bluesky account (config: service, handle, language,
    thread_service; secrets: app_password). Does not call the network."""
    return BlueskyChannel(service=str(config["service"]).strip(), handle=str(config["handle"]).strip().lstrip("@"),
                          app_password=secrets["app_password"], language=str(config.get("language") or ""),
                          thread_service=str(config.get("thread_service") or "").strip())
