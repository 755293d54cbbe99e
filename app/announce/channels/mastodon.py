"""The Mastodon channel: a city's account on a Mastodon server, through Mastodon.py.

Configuration (`config`, shown again to administrators): `instance_url` the server's address
(`https://mastodon.example`; plain http only for 127.0.0.1 and localhost, for tests and local
servers), `visibility` of the posts ("public" or "unlisted"), `language` the language posts are
tagged with when the post carries none. Secret (`secrets`): `access_token`, a token of an
application created in the account's preferences (Development), with the `read` and `write`
scopes (`write:statuses`, `write:media`, `read:statuses` and `read:accounts` suffice, and
`read:notifications` for the assistant to read the mentions of the account: `mentions`, used by
app.assistant.mentions; the answers under them are posted with the mention's visibility,
`OutgoingPost.visibility`, "private" and "direct" included).

What the delivery queue reads (see `app.announce.channels.base`): every request has a timeout
(`TIMEOUT_SECONDS`), Mastodon.py never waits on a rate limit itself (`ratelimit_method="throw"`),
and `delivery_error` is the one place where what Mastodon.py raises becomes Transient,
RateLimited, AuthFailed or Rejected. Mastodon deduplicates a status posted twice with the same
`Idempotency-Key` header (per account, for an hour after the first: Mastodon keeps the key
3,600 seconds), so `post` passes the delivery's key and the channel is `idempotent`; a retry
more than an hour after an attempt the server accepted would post again. The access token
never appears in an error text or a log line: it only travels in the Authorization header.
"""

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonVersionError,
)

from app.announce.channels.base import (
    AuthFailed,
    DeliveryError,
    Image,
    Mention,
    OutgoingPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Reply,
    Transient,
)
from app.announce.channels.status_html import html_to_text
from app.clock import utcnow
from app.db import Database
from app.i18n import N_
from app.settings import LANGUAGES, Settings

KIND = "mastodon"
VISIBILITIES = ("public", "unlisted")
MENTION_VISIBILITIES = ("public", "unlisted", "private", "direct")
MENTIONS_PAGE = 40  # Mastodon's most notifications in one answer
TIMEOUT_SECONDS = 10.0
CLOCK_SKEW = timedelta(minutes=5)  # between this machine and the server, when dates are compared
"""Seconds each request may take (connecting, then between bytes of the answer)."""
MEDIA_WAIT_SECONDS = 30.0
"""How long `post` waits for an uploaded image the server processes in the background."""
MEDIA_POLL_SECONDS = 1.0
RATE_LIMIT_FALLBACK = timedelta(minutes=1)
"""How long to wait after a 429 that did not say until when (Mastodon's windows are 5 minutes)."""
MAX_DESCRIPTION = 1500
"""Mastodon's limit on an attachment's description (alt text), in characters."""
ASSUMED_VERSION = "4.0.0"
"""Mastodon.py is told this version instead of asking the server: no hidden request, and the
media upload uses `/api/v2/media`. Every endpoint used here exists since 4.0 (or long before)."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_RETRY_STATUSES = (408, 425)  # request timeout, too early: the same request may succeed later


def validate_config(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors of a channel's settings, as English msgids marked with `N_()` ({} when
    valid): `instance_url` (an https address of a server, nothing after the host; http only
    for 127.0.0.1 and localhost), `visibility` (one of `VISIBILITIES`), `language` (one of
    the site's languages), `access_token` (required, printable, no spaces). The admin page
    passes the stored secrets when the token field is left empty."""
    errors: dict[str, str] = {}
    url = str(config.get("instance_url") or "").strip()
    if not url:
        errors["instance_url"] = N_("Enter the address of the Mastodon server.")
    else:
        problem = _url_problem(url)
        if problem:
            errors["instance_url"] = problem
    if config.get("visibility") not in VISIBILITIES:
        errors["visibility"] = N_("Choose public or unlisted.")
    if config.get("language") not in LANGUAGES:
        errors["language"] = N_("Choose one of the site’s languages.")
    token = secrets.get("access_token") or ""
    if not token.strip():
        errors["access_token"] = N_("Enter the access token.")
    elif not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        errors["access_token"] = N_("An access token is one word of letters, digits and signs.")
    return errors


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return N_("Enter an address like https://mastodon.example.")
    if parts.scheme not in ("https", "http") or not host:
        return N_("Enter an address like https://mastodon.example.")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return N_("The address must start with https://.")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        return N_("Enter only the server’s address, like https://mastodon.example.")
    return None


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings,
          db: Database) -> "MastodonChannel":
    """The channel configured by `config` and `secrets` (see `validate_config`). Raises
    AuthFailed (the channel then waits for an administrator) when they are not valid; the
    message names the fields, never their values."""
    del settings, db  # nothing the channel needs from them
    errors = validate_config(config, secrets)
    if errors:
        raise AuthFailed("Mastodon channel settings are not valid: " + ", ".join(sorted(errors)))
    return MastodonChannel(
        instance_url=str(config["instance_url"]).strip(),
        access_token=secrets["access_token"],
        visibility=str(config["visibility"]),
        language=str(config["language"]),
    )


def delivery_error(exc: MastodonError, *, ratelimit_reset: float | None,
                   now: datetime) -> DeliveryError:
    """What the delivery queue reads from an error Mastodon.py raised:

    - the network (timeout, refused connection, reset): Transient;
    - a rate limit (429, with `ratelimit_method="throw"`): RateLimited until `ratelimit_reset`
      (a POSIX timestamp, Mastodon.py's reading of the X-RateLimit-Reset header adjusted to
      the local clock; None when the answer gave none or a past one), else `now` plus
      `RATE_LIMIT_FALLBACK`;
    - 5xx, 408, 425 and an answer that is not JSON: Transient;
    - 401 and 403 (a revoked or wrong token, a missing scope, a suspended account): AuthFailed;
    - another 4xx (422 text too long, 404 post to answer gone...): Rejected, with the server's
      explanation;
    - Mastodon.py refusing an argument: Rejected.

    The texts are for administrators, in English; none contains the token (Mastodon.py's
    error values never do: the token is only in the request's Authorization header)."""
    if isinstance(exc, MastodonRatelimitError):
        return _rate_limited(ratelimit_reset, now)
    if isinstance(exc, MastodonNetworkError):
        return Transient("Mastodon server unreachable or too slow to answer")
    if isinstance(exc, MastodonIllegalArgumentError | MastodonVersionError):
        return Rejected(f"Mastodon.py refused the request: {exc}")
    if isinstance(exc, MastodonAPIError):
        status = _status_code(exc)
        if status is None:
            return Transient("Mastodon server gave an answer that could not be read")
        explanation = _explanation(exc)
        if status == 429:
            return _rate_limited(ratelimit_reset, now)
        if status >= 500 or status in _RETRY_STATUSES:
            return Transient(f"Mastodon server error {status}{explanation}")
        if status in (401, 403):
            return AuthFailed(f"Mastodon refused the access token ({status}{explanation})")
        return Rejected(f"Mastodon refused the request ({status}{explanation})")
    return Transient(f"Mastodon request failed ({type(exc).__name__})")


def _rate_limited(ratelimit_reset: float | None, now: datetime) -> RateLimited:
    if ratelimit_reset is not None:
        reset_at = datetime.fromtimestamp(ratelimit_reset, UTC)
        if reset_at > now:
            return RateLimited(reset_at, f"Mastodon rate limit reached until {reset_at.isoformat()}")
    return RateLimited(now + RATE_LIMIT_FALLBACK, "Mastodon rate limit reached")


def _status_code(exc: MastodonAPIError) -> int | None:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, message) for an
    # HTTP error, and a one- or two-string error for a body that is not JSON.
    args = exc.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _explanation(exc: MastodonAPIError) -> str:
    message = exc.args[3] if len(exc.args) > 3 and isinstance(exc.args[3], str) else ""
    return f": {message[:200]}" if message else ""


class MastodonChannel:
    """A city's Mastodon account (see the module's documentation and the `Channel`
    protocol in `app.announce.channels.base`). `timeout` seconds per request; `media_wait`
    seconds at most for an image the server processes in the background."""

    kind: ClassVar[str] = KIND
    idempotent: ClassVar[bool] = True
    collects_replies: ClassVar[bool] = True
    # "Idempotency keys are stored for up to 1 hour" (docs.joinmastodon.org, POST
    # /api/v1/statuses): a retry later than that looks with `find` first.
    idempotency_window: ClassVar[timedelta] = timedelta(hours=1)

    def __init__(self, *, instance_url: str, access_token: str, visibility: str = "public",
                 language: str = "fr", timeout: float = TIMEOUT_SECONDS,
                 media_wait: float = MEDIA_WAIT_SECONDS) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.visibility = visibility
        self.language = language
        self.media_wait = media_wait
        self._client = Mastodon(
            api_base_url=self.instance_url, ratelimit_method="throw", request_timeout=timeout,
            mastodon_version=ASSUMED_VERSION, version_check_mode="created",
            user_agent="Reinventons (city participation platform)")
        # Set after construction: given to the constructor, a token that happens to name an
        # existing file would be read from that file.
        self._client.access_token = access_token
        self._account_id: str | None = None
        self._account: dict[str, Any] | None = None
        self._domain: str | None = None

    def __repr__(self) -> str:
        return f"MastodonChannel({self.instance_url!r})"

    def _call(self, method: Any, *args: Any, gone_ok: bool = False, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)` of the Mastodon.py client, errors mapped by
        `delivery_error`; with `gone_ok`, a 404 returns None."""
        # Mastodon.py keeps the last X-RateLimit-Reset it read: only this request's counts.
        self._client.ratelimit_reset = None  # type: ignore[assignment]
        try:
            return method(*args, **kwargs)
        except MastodonNotFoundError as exc:
            if gone_ok:
                return None
            raise self._mapped(exc) from exc
        except MastodonError as exc:
            raise self._mapped(exc) from exc

    def _mapped(self, exc: MastodonError) -> DeliveryError:
        return delivery_error(exc, ratelimit_reset=self._client.ratelimit_reset, now=utcnow())

    def check(self) -> str:
        """The account's handle, `@name` (Mastodon's `acct`). Raises AuthFailed when the
        token is refused, Transient when the server cannot be reached."""
        account = self._call(self._client.account_verify_credentials)
        self._account_id = _field(account, "id")
        return "@" + _field(account, "acct")

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """Publish `post` as a status: the image uploaded first with its alt text (waiting
        while the server processes it), then the status with the channel's visibility, the
        post's language (the channel's when it has none), the status it answers and `key` as
        Idempotency-Key: the same key within an hour gives back the status already posted.
        A retried delivery uploads the image again; the unused upload is deleted by the
        server's clean-up of unattached media. Returns the status's id and public address."""
        media_ids = [self._upload(post.image)] if post.image else None
        status = self._call(
            self._client.status_post, post.text,
            in_reply_to_id=post.in_reply_to.id if post.in_reply_to else None,
            media_ids=media_ids, visibility=post.visibility or self.visibility,
            language=post.language or self.language, idempotency_key=key)
        return RemoteRef(id=_field(status, "id"), url=_optional(status, "url") or _optional(status, "uri"))

    def _upload(self, image: Image) -> str:
        """The id of `image` uploaded and processed (Mastodon answers 202 with no `url`
        while it processes in the background, and refuses a status with such an image)."""
        media = self._call(self._client.media_post, image.data, mime_type=image.mime,
                           description=image.alt[:MAX_DESCRIPTION])
        media_id = _field(media, "id")
        deadline = time.monotonic() + self.media_wait
        while not _optional(media, "url"):
            if time.monotonic() >= deadline:
                raise Transient("Mastodon server is still processing the image")
            time.sleep(MEDIA_POLL_SECONDS)
            media = self._call(self._client.media, media_id)
        return media_id

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """The status an earlier attempt published, for a retry beyond the hour during which
        Mastodon keeps an Idempotency-Key (the queue calls it then; see IDEMPOTENCY_WINDOW):
        among the account's latest 40 statuses, the one with the same text (whitespace and the
        servers of handles aside) posted since the delivery was queued (`post.meta["queued_at"]`, ISO 8601), or None.
        The API cannot search statuses by key; the date keeps an earlier announcement of the
        same text from being taken for this one."""
        del key
        queued = post.meta.get("queued_at")
        since = datetime.fromisoformat(queued) if isinstance(queued, str) else None
        wanted = _comparable(post.text)
        statuses = self._call(self._client.account_statuses, self._own_account_id(), limit=40) or []
        for status in statuses:
            posted = _utc(status.get("created_at"))
            if since is not None and posted < since - CLOCK_SKEW:
                continue
            if _comparable(html_to_text(_optional(status, "content"))) == wanted:
                return RemoteRef(id=_field(status, "id"), url=_optional(status, "url") or _optional(status, "uri"))
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Delete the status `ref`; one already gone (404) counts as deleted."""
        self._call(self._client.status_delete, ref.id, gone_ok=True)

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """The public and unlisted statuses under `ref` (answers to it and to its answers,
        the city's own left out), oldest first, only those after the reply `since` (Mastodon
        ids are numbers growing with time, compared as such). Texts are plain text with
        paragraphs separated by blank lines; handles are `@name@server` (a local account's
        server is the instance's domain as it reports it)."""
        context = self._call(self._client.status_context, ref.id)
        descendants = _optional_list(context, "descendants")
        own = self._own_account_id()
        after = int(since) if since and since.isdigit() else None
        found: list[tuple[int, Any]] = []
        for status in descendants:
            remote_id = _field(status, "id")
            if not remote_id.isdigit():
                raise Transient("Mastodon server gave a status id that is not a number")
            if _optional(status, "visibility") not in VISIBILITIES:
                continue
            account = status.get("account") or {}
            if _optional(account, "id") == own:
                continue
            if after is not None and int(remote_id) <= after:
                continue
            found.append((int(remote_id), status))
        found.sort(key=lambda pair: pair[0])
        return [self._reply(status) for _, status in found]

    def mentions(self, *, since: str | None) -> list[Mention]:
        """The statuses mentioning the account, from its notifications of type "mention"
        newer than notification `since` (all those the server keeps when None; at most
        MENTIONS_PAGE, the oldest first, so that a backlog is read page after page). The
        account's own handle (`@name` or `@name@domain`) is removed from each text; a status
        of an unknown visibility is left out. Raises like `post`."""
        page = self._call(self._client.notifications, types=["mention"], limit=MENTIONS_PAGE,
                          min_id=since or None) or []
        own = self._own_account()
        name = re.escape(str(own.get("username") or own.get("acct") or ""))
        handle = re.compile(rf"(?<![\w@])@{name}(?:@[\w.-]+)?\b", re.IGNORECASE) if name else None
        found: list[tuple[int, Mention]] = []
        for notification in page:
            notification_id = _field(notification, "id")
            status = notification.get("status")
            if not notification_id.isdigit() or not isinstance(status, dict):
                continue
            visibility = _optional(status, "visibility")
            account = status.get("account") or {}
            if visibility not in MENTION_VISIBILITIES or _optional(account, "id") == _field(own, "id"):
                continue
            acct = _field(account, "acct")
            if "@" not in acct:
                acct = f"{acct}@{self._instance_domain()}"
            text = html_to_text(_optional(status, "content"))
            if handle is not None:
                text = handle.sub(" ", text)
            found.append((int(notification_id), Mention(
                notification_id=notification_id, remote_id=_field(status, "id"), text=" ".join(text.split()),
                author_handle="@" + acct, visibility=visibility, language=_optional(status, "language"),
                url=_optional(status, "url") or _optional(status, "uri"), bot=bool(account.get("bot")),
                created_at=_utc(status.get("created_at")))))
        found.sort(key=lambda pair: pair[0])
        return [mention for _, mention in found]

    def _reply(self, status: Any) -> Reply:
        account = status.get("account") or {}
        acct = _field(account, "acct")
        if "@" not in acct:
            acct = f"{acct}@{self._instance_domain()}"
        text = html_to_text(_optional(status, "content"))
        warning = _optional(status, "spoiler_text")
        return Reply(
            remote_id=_field(status, "id"),
            parent_id=_optional(status, "in_reply_to_id"),
            text=f"{warning}\n\n{text}" if warning else text,
            author_handle="@" + acct,
            author_url=_optional(account, "url"),
            url=_optional(status, "url") or _optional(status, "uri"),
            created_at=_utc(status.get("created_at")),
        )

    def _own_account_id(self) -> str:
        if self._account_id is None:
            self._account_id = _field(self._own_account(), "id")
        return self._account_id

    def _own_account(self) -> dict[str, Any]:
        if self._account is None:
            account = self._call(self._client.account_verify_credentials)
            if not isinstance(account, dict):
                raise Transient("Mastodon server gave an answer that is not a JSON object")
            self._account = dict(account)
        return self._account

    def _instance_domain(self) -> str:
        """The domain in the handles of the server's own accounts, as the server reports it
        (`domain` of /api/v2/instance), which may differ from the address of its web pages."""
        if self._domain is None:
            instance = self._call(self._client.instance_v2)
            self._domain = _optional(instance, "domain") or urlsplit(self.instance_url).hostname or ""
        return self._domain


_HANDLE_SERVER = re.compile(r"(?<![\w@])@(\w+)@[\w.-]*\w")


def _comparable(text: str) -> str:
    """`text` as `find` compares posts: whitespace collapsed, handles without their server (a
    status's HTML shows `@name` for the `@name@server` its text named)."""
    return " ".join(_HANDLE_SERVER.sub(r"@\1", text).split())


def _field(data: Any, name: str) -> str:
    """`data[name]` as a non-empty string; Transient when the answer lacks it (a server
    answering 200 with something else than Mastodon's JSON)."""
    value = _optional(data, name)
    if not value:
        raise Transient(f"Mastodon server answer lacks {name!r}")
    return value


def _optional(data: Any, name: str) -> str:
    if not isinstance(data, dict):
        raise Transient("Mastodon server gave an answer that is not a JSON object")
    value = data.get(name)
    return "" if value is None else str(value)


def _optional_list(data: Any, name: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(name), list):
        raise Transient(f"Mastodon server answer lacks the list {name!r}")
    return [item for item in data[name] if isinstance(item, dict)]


def _utc(value: Any) -> datetime:
    """An aware UTC datetime from what Mastodon.py parsed (aware, in the local zone) or an
    ISO 8601 string; Transient when it is neither."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise Transient("Mastodon server gave a status without a valid date")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
