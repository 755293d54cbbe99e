"""Videos linked in the city's texts and in citizens' ones: YouTube and the city's PeerTube.

A link is recognised only in the forms below, on exactly these hosts, with an id of exactly the
expected shape; anything else is not a video (`parse_video` returns None), so a look-alike host
(`youtube.com.evil.example`, `youtu.be.evil`) or a crafted id never reaches a page as a video.

- YouTube: `youtube.com/watch?v=<id>`, `/shorts/<id>`, `/embed/<id>` on `youtube.com`,
  `www.youtube.com` or `m.youtube.com`, and `youtu.be/<id>` (`www.` allowed); an id is 11
  characters of `[A-Za-z0-9_-]`. A start time (`t=1m30s`) is kept as a number of seconds, the
  embedded player's `start` parameter (https://developers.google.com/youtube/player_parameters).
  The player is only ever YouTube's privacy-enhanced mode,
  `https://www.youtube-nocookie.com/embed/<id>`: YouTube Help, "Embed videos & playlists",
  Turn on privacy-enhanced mode (https://support.google.com/youtube/answer/171780): the embed
  URL's domain changed to youtube-nocookie.com, so that YouTube does not store information about
  the site's visitors unless they play the video. Playing still loads YouTube's player, which is
  why pages load it only after a click (templates/_macros/video.html, static/js/video.js).
- PeerTube: on the hosts of the `peertube_hosts` setting only, `/w/<shortUUID>`,
  `/videos/watch/<uuid or shortUUID>` and `/videos/embed/<uuid or shortUUID>`; a UUID is
  8-4-4-4-12 hexadecimal digits, a short UUID 22 letters and digits (as yt-dlp's PeerTube
  extractor accepts them). The player is `https://<host>/videos/embed/<id>`, the embed URL of
  the PeerTube Embed API documentation (https://docs.joinpeertube.org/api-embed-player, e.g.
  `https://my-instance.example.com/videos/embed/52a10666-3a18-4e73-93da-e8d3c12c305a`; its URL
  parameters include `autoplay`); an embed takes a UUID or a short UUID
  (https://docs.joinpeertube.org/api/custom-client-markup, peertube-video-embed's data-uuid).

`frame_sources` lists the origins the Content-Security-Policy lets a page frame
(app.security.content_security_policy): these players and nothing else.
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup, escape

from app.i18n import gettext
from app.settings import Settings

NOCOOKIE_ORIGIN = "https://www.youtube-nocookie.com"
MAX_VIDEOS = 3

YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com"})
YOUTU_BE_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
YOUTUBE_START = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")
PEERTUBE_ID = re.compile(r"[0-9A-Za-z]{22}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# An address in running text or in an attribute: up to a space, a quote or an angle bracket.
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# A paragraph of sanitised HTML (app.richtext: nh3 writes every link this way) that holds one
# link and nothing else; its text (maybe emphasised) and title are not kept.
LONE_LINK = re.compile(r'<p>\s*<a href="([^"<>]*)"(?: title="[^"<>]*")? rel="nofollow ugc noopener">'
                       r'(?:[^<]|</?(?:strong|em|s|code)>)*</a>\s*</p>')
# Characters no address we accept holds (whitespace, backslashes, controls): refused whole.
REFUSED_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Video:
    """A recognised video. `provider` is "youtube" or "peertube"; `video_id` its checked id;
    `host` the host name shown to people ("youtube.com", or the PeerTube host); `watch_url`
    the page on the host (the no-JavaScript path), `embed_url` the player's address (YouTube
    only through youtube-nocookie.com), both https and built from the checked id only."""

    provider: str
    video_id: str
    host: str
    watch_url: str
    embed_url: str


def youtube(video_id: str, start: int = 0) -> Video:
    """A YouTube video; `start` (seconds) is kept from a link's `t=` as YouTube writes it."""
    return Video(provider="youtube", video_id=video_id, host="youtube.com",
                 watch_url=f"https://www.youtube.com/watch?v={video_id}" + (f"&t={start}s" if start else ""),
                 embed_url=f"{NOCOOKIE_ORIGIN}/embed/{video_id}" + (f"?start={start}" if start else ""))


def _start(query: str) -> int:
    """The start time of a YouTube link's `t=` ("42", "42s", "1m30s", "1h2m3s"), 0 if none or odd."""
    values = parse_qs(query).get("t", [])
    match = YOUTUBE_START.fullmatch(values[0]) if len(values) == 1 else None
    if match is None or not any(match.groups()):
        return 0
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return min(hours * 3600 + minutes * 60 + seconds, 24 * 3600)


def peertube(host: str, video_id: str) -> Video:
    return Video(provider="peertube", video_id=video_id, host=host,
                 watch_url=f"https://{host}/w/{video_id}",
                 embed_url=f"https://{host}/videos/embed/{video_id}")


def peertube_hosts(settings: Settings | None) -> tuple[str, ...]:
    """The configured PeerTube host names (lower case), none without settings."""
    return settings.peertube_host_list if settings is not None else ()


def parse_video(url: str, hosts: tuple[str, ...] | list[str] = ()) -> Video | None:
    """The video `url` links to, or None. `url` is an absolute http(s) address as a person
    wrote it; `hosts` the PeerTube host names accepted (`peertube_hosts(settings)`). Never
    raises: an address that cannot be parsed is not a video."""
    if not url or len(url) > 2000 or REFUSED_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.username is not None or parts.password is not None:
        return None
    if port is not None and port not in (80, 443):
        return None
    host = (parts.hostname or "").lower()
    # "/shorts/<id>" -> ["shorts", "<id>"]; one trailing slash is tolerated.
    path = parts.path.removesuffix("/").split("/")[1:] if parts.path.startswith("/") else []
    if host in YOUTUBE_HOSTS:
        if path == ["watch"]:
            values = parse_qs(parts.query).get("v", [])
            candidate = values[0] if len(values) == 1 else ""
        elif len(path) == 2 and path[0] in ("shorts", "embed"):
            candidate = path[1]
        else:
            return None
        return youtube(candidate, _start(parts.query)) if YOUTUBE_ID.fullmatch(candidate) else None
    if host in YOUTU_BE_HOSTS:
        if len(path) == 1 and YOUTUBE_ID.fullmatch(path[0]):
            return youtube(path[0], _start(parts.query))
        return None
    if host and host in hosts:
        if len(path) == 2 and path[0] == "w":
            candidate = path[1]
        elif len(path) == 3 and path[0] == "videos" and path[1] in ("watch", "embed"):
            candidate = path[2]
        else:
            return None
        return peertube(host, candidate) if PEERTUBE_ID.fullmatch(candidate) else None
    return None


def videos_in(text: str, hosts: tuple[str, ...] | list[str] = ()) -> list[Video]:
    """The videos linked in `text` (plain text, Markdown, or sanitised HTML whose entities are
    read as characters), in order of first appearance, each once (whatever its start time), at
    most `MAX_VIDEOS`."""
    found: list[Video] = []
    for match in URL_IN_TEXT.finditer(html.unescape(text or "")):
        # Running text ends a sentence after an address: "(see https://youtu.be/<id>)."
        video = parse_video(match.group(0).rstrip(".,;:!?)]}"), hosts)
        if video is not None and all((v.host, v.video_id) != (video.host, video.video_id) for v in found):
            found.append(video)
            if len(found) == MAX_VIDEOS:
                break
    return found


def frame_sources(settings: Settings | None) -> list[str]:
    """The origins a page may frame (CSP frame-src): YouTube's privacy-enhanced host, then
    each configured PeerTube host over https."""
    return [NOCOOKIE_ORIGIN, *(f"https://{host}" for host in peertube_hosts(settings))]


def card(video: Video) -> Markup:
    """A link card for `video`: its host and a link to its page. Nothing is loaded from the host
    (no frame, no picture); built from the parsed video only, every part escaped."""
    label = gettext("Video on {host}", host=video.host)
    return Markup(  # noqa: S704 - every value below is escaped
        '<p class="video-card"><span class="video-card-label">{label}</span> '
        '<a href="{url}" rel="nofollow ugc noopener">{url}</a></p>'
    ).format(label=escape(label), url=escape(video.watch_url))


def video_cards(rich_html: str, hosts: tuple[str, ...] | list[str] = ()) -> Markup:
    """Sanitised HTML (the output of the `richtext` filter) with every paragraph that holds
    only a video link turned into its `card`. What is not Markup already is escaped first, so
    the filter never turns text into markup."""
    source = rich_html if isinstance(rich_html, Markup) else escape(rich_html)

    def replace(match: re.Match[str]) -> str:
        video = parse_video(html.unescape(match.group(1)), hosts)
        return str(card(video)) if video is not None else match.group(0)

    return Markup(LONE_LINK.sub(replace, str(source)))  # noqa: S704 - sanitised input, escaped cards
