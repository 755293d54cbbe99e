"""Videos (issue 11): links parsed strictly, the CSP frames only the players, the call and
announcement pages show a click-to-load box that loads nothing from the host, and a video link
alone in an idea or a comment becomes a link card, never a player."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlmodel import Session

from app.announce.models import Announcement
from app.clock import utcnow
from app.comment.models import Comment
from app.i18n import language
from app.main import create_app
from app.richtext import render_markdown, richtext_filter
from app.settings import Settings
from app.share.video import MAX_VIDEOS, Video, frame_sources, parse_video, video_cards, videos_in
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, make_settings

ID = "_2_-21bdGe4"
NOCOOKIE = f"https://www.youtube-nocookie.com/embed/{ID}"
WATCH = f"https://www.youtube.com/watch?v={ID}"
TUBE = "tube.liege.example"
UUID = "52a10666-3a18-4e73-93da-e8d3c12c305a"
SHORT = "9c9de5e8a0a1e484ab099e"  # 22 letters and digits


# --- The parser -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"https://www.youtube.com/watch?v={ID}",
    f"https://youtube.com/watch?v={ID}",
    f"http://m.youtube.com/watch?v={ID}&feature=youtu.be",
    f"https://www.youtube.com/watch?feature=share&v={ID}",
    f"https://youtu.be/{ID}",
    f"https://www.youtu.be/{ID}?si=abc",
    f"https://www.youtube.com/shorts/{ID}",
    f"https://youtube.com/shorts/{ID}/",
    f"https://www.youtube.com/embed/{ID}",
    f"HTTPS://WWW.YOUTUBE.COM/watch?v={ID}",
])
def test_youtube_links_in_every_form_give_the_nocookie_player(url: str) -> None:
    video = parse_video(url)
    assert video == Video(provider="youtube", video_id=ID, host="youtube.com", watch_url=WATCH, embed_url=NOCOOKIE)


@pytest.mark.parametrize("url", [
    f"https://youtube.com.evil.example/watch?v={ID}",
    f"https://youtu.be.evil/{ID}",
    f"https://evil.example/youtu.be/{ID}",
    f"https://notyoutube.com/watch?v={ID}",
    f"https://www.youtube.com@evil.example/watch?v={ID}",
    f"https://evil.example/?u=https://youtu.be/{ID}",
    f"https://www.youtube-nocookie.com.evil.example/embed/{ID}",
    f"https://www.youtube.com:8443/watch?v={ID}",
    f"ftp://youtu.be/{ID}",
    f"javascript:alert(1)//https://youtu.be/{ID}",
    f"javascript://youtu.be/{ID}%0Aalert(1)",
    f"//youtu.be/{ID}",
    "https://youtu.be/short",
    "https://youtu.be/abcdefghijkl",  # 12 characters
    "https://youtu.be/abc<def>ghi",
    "https://youtu.be/abc%22defgh",
    'https://youtu.be/abcdefghij"',
    "https://www.youtube.com/watch?v=abc%3Cscript",
    f"https://www.youtube.com/watch?v={ID}&v=abcdefghijk",
    f"https://www.youtube.com/watch/{ID}",
    f"https://www.youtube.com/shorts/{ID}/more",
    f"https://www.youtube.com/playlist?list={ID}",
    f"https://youtu.be/{ID} x",
    f"https://youtu.be\\@evil.example/{ID}",
    "https://[::1/",
    "",
])
def test_look_alike_hosts_bad_ids_and_other_schemes_are_not_videos(url: str) -> None:
    assert parse_video(url, [TUBE]) is None


@pytest.mark.parametrize(("query", "start"), [
    ("t=42s", 42), ("t=42", 42), ("t=1m30s", 90), ("t=1h2m3s", 3723), ("t=", 0), ("t=abc", 0),
    ("t=42s%22%3E", 0), ("t=1&t=2", 0), ("t=99h", 24 * 3600),
])
def test_a_start_time_is_kept_as_seconds_only(query: str, start: int) -> None:
    for url in (f"https://www.youtube.com/watch?v={ID}&{query}", f"https://youtu.be/{ID}?{query}"):
        video = parse_video(url)
        assert video is not None
        if start:
            assert (video.watch_url, video.embed_url) == (f"{WATCH}&t={start}s", f"{NOCOOKIE}?start={start}")
        else:
            assert (video.watch_url, video.embed_url) == (WATCH, NOCOOKIE)


def test_peertube_links_only_on_configured_hosts() -> None:
    hosts = (TUBE,)
    for url, video_id in ((f"https://{TUBE}/w/{SHORT}", SHORT), (f"https://{TUBE}/videos/watch/{UUID}", UUID),
                          (f"https://{TUBE}/videos/embed/{UUID}", UUID), (f"http://{TUBE.upper()}/w/{SHORT}", SHORT)):
        video = parse_video(url, hosts)
        assert video is not None, url
        assert (video.provider, video.host, video.video_id) == ("peertube", TUBE, video_id)
        assert video.embed_url == f"https://{TUBE}/videos/embed/{video_id}"
        assert video.watch_url == f"https://{TUBE}/w/{video_id}"
    # Not configured: not a video, whatever the path.
    assert parse_video(f"https://{TUBE}/w/{SHORT}") is None
    assert parse_video(f"https://other.example/videos/watch/{UUID}", hosts) is None
    assert parse_video(f"https://{TUBE}.evil.example/w/{SHORT}", hosts) is None
    # Configured, but not a video's address or not a video's id.
    for path in (f"/w/p/{SHORT}", "/w/short", f"/videos/watch/{UUID}x", f"/videos/embed/{UUID[:-1]}<",
                 f"/c/channel/{SHORT}", f"/w/{SHORT}/extra", "/"):
        assert parse_video(f"https://{TUBE}{path}", hosts) is None, path


def test_videos_in_text_deduplicated_and_at_most_three() -> None:
    text = (f"Voir {WATCH}. Et aussi (https://youtu.be/{ID}?t=3), puis https://youtu.be/aaaaaaaaaaa, "
            "https://youtu.be/bbbbbbbbbbb, https://youtu.be/ccccccccccc et https://youtu.be.evil/ddddddddddd")
    found = videos_in(text)
    assert [v.video_id for v in found] == [ID, "aaaaaaaaaaa", "bbbbbbbbbbb"]
    assert len(found) == MAX_VIDEOS
    # Sanitised HTML: entities are read as characters.
    linked = render_markdown(f"[la vidéo](https://www.youtube.com/watch?t=1&v={ID})")
    assert [v.video_id for v in videos_in(linked)] == [ID]
    assert videos_in("") == [] and videos_in("pas de lien") == []


def test_peertube_hosts_setting_is_host_names_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, peertube_hosts=f" {TUBE.upper()} , video.example.org,,{TUBE}")
    assert settings.peertube_host_list == (TUBE, "video.example.org")
    assert frame_sources(settings) == ["https://www.youtube-nocookie.com", f"https://{TUBE}", "https://video.example.org"]
    assert frame_sources(None) == ["https://www.youtube-nocookie.com"]
    for bad in ("https://tube.example", "tube.example/", "tube.example; script-src *", "tube example", "*.example.org"):
        with pytest.raises(ValueError, match="PEERTUBE_HOSTS"):
            Settings(data_dir=tmp_path, peertube_hosts=bad)


# --- The Content-Security-Policy --------------------------------------------------------------

def _directive(csp: str, name: str) -> list[str]:
    parts = [part.split() for part in csp.split(";")]
    found = [part[1:] for part in parts if part and part[0] == name]
    assert len(found) == 1, csp
    return found[0]


def test_csp_frames_only_the_nocookie_player(client: WebClient) -> None:
    for path in ("/", "/calls", "/does-not-exist"):
        csp = client.get(path).headers["content-security-policy"]
        assert _directive(csp, "frame-src") == ["https://www.youtube-nocookie.com"]
        # The rest of the policy is as it was.
        assert _directive(csp, "default-src") == ["'self'"]
        assert _directive(csp, "script-src") == ["'self'"]
        assert _directive(csp, "frame-ancestors") == ["'none'"]
        assert _directive(csp, "object-src") == ["'none'"]


def test_csp_frames_the_configured_peertube_hosts(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "var", database_url, peertube_hosts=f"{TUBE},video.example.org")
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        csp = web.get("/").headers["content-security-policy"]
    assert _directive(csp, "frame-src") == ["https://www.youtube-nocookie.com", f"https://{TUBE}",
                                            "https://video.example.org"]


# --- What pages send --------------------------------------------------------------------------

class _Attributes(HTMLParser):
    """Every tag and its attributes, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(page: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Attributes()
    parser.feed(page)
    return parser.tags


VIDEO_HOSTS = re.compile(r"youtube\.com|youtube-nocookie\.com|ytimg\.com|youtu\.be|googlevideo", re.IGNORECASE)


def _requests_to_video_hosts(page: str) -> list[tuple[str, str, str]]:
    """What on the page makes a browser ask a video host for something before any click: any
    src, srcset, poster, data (object) or link href; a[href] is a link people follow, not a load."""
    loads = []
    for tag, attrs in _tags(page):
        for name in ("src", "srcset", "poster", "data", "action", "formaction"):
            if VIDEO_HOSTS.search(attrs.get(name, "")):
                loads.append((tag, name, attrs[name]))
        if tag == "link" and VIDEO_HOSTS.search(attrs.get("href", "")):
            loads.append((tag, "href", attrs["href"]))
    return loads


def test_call_page_shows_a_click_to_load_box_and_loads_nothing_from_youtube(client: WebClient,
                                                                           session: Session) -> None:
    description = f"Regardez la présentation :\n\n{WATCH}\n\nEt le [résumé](https://youtu.be/aaaaaaaaaaa)."
    call = make_call(session, description_md=description, description_html=render_markdown(description))
    page = client.get(f"/calls/{call.slug}").text
    tags = _tags(page)
    assert not [t for t, _a in tags if t in ("iframe", "frame", "object", "embed", "video")]
    assert _requests_to_video_hosts(page) == []
    figures = [a for t, a in tags if t == "figure" and "data-video" in a]
    assert [f["data-embed"] for f in figures] == [NOCOOKIE, "https://www.youtube-nocookie.com/embed/aaaaaaaaaaa"]
    # The nocookie address is only data for the script: nowhere else on the page.
    assert page.count("youtube-nocookie.com") == 2
    assert "Cette vidéo est hébergée par youtube.com, qui peut déposer des cookies dès qu’elle est lue." in page
    buttons = [a for t, a in tags if t == "button" and "data-video-play" in a]
    assert len(buttons) == 2 and all(b["type"] == "button" for b in buttons)
    assert "Lire la vidéo" in page
    # The no-JavaScript path: a plain link to the video's page.
    assert page.count("Regarder sur youtube.com") == 2
    watch_links = [a["href"] for t, a in tags if t == "a" and a.get("href", "").startswith("https://www.youtube.com/")]
    assert WATCH in watch_links and "https://www.youtube.com/watch?v=aaaaaaaaaaa" in watch_links
    assert '<script src="/static/js/video.js" defer></script>' in page


def test_call_page_without_video_has_no_player_nor_script(client: WebClient, session: Session) -> None:
    description = "Une description avec https://youtube.com.evil.example/watch?v=_2_-21bdGe4"
    call = make_call(session, description_md=description, description_html=render_markdown(description))
    page = client.get(f"/calls/{call.slug}").text
    assert "data-video" not in page and "video.js" not in page and "youtube-nocookie" not in page


def test_announcement_page_plays_the_video_of_its_link_after_a_click(client: WebClient, session: Session) -> None:
    call = make_call(session)
    announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Le bilan en vidéo."},
                                link=f"https://youtu.be/{ID}", status="published", published_at=utcnow())
    in_text = Announcement(call_id=call.id, event="free", texts={"fr": f"Regardez https://youtube.com/shorts/{ID} !"},
                           status="published", published_at=utcnow())
    session.add(announcement)
    session.add(in_text)
    session.flush()
    for item in (announcement, in_text):
        page = client.get(f"/announcements/{item.id}").text
        tags = _tags(page)
        assert [a["data-embed"] for t, a in tags if t == "figure" and "data-video" in a] == [NOCOOKIE]
        assert not [t for t, _a in tags if t == "iframe"]
        assert _requests_to_video_hosts(page) == []


def test_idea_and_comment_with_a_video_link_show_a_link_card(client: WebClient, session: Session) -> None:
    author = make_user(session)
    call = make_call(session)
    idea = make_idea(session, call, author, body=f"{WATCH}\n\nUn banc par ici, voir aussi {WATCH} en ligne.")
    body = f"https://youtu.be/{ID}"
    session.add(Comment(idea_id=idea.id, author_id=author.id, body_md=body, body_html=render_markdown(body)))
    session.flush()
    page = client.get(f"/ideas/{idea.id}").text
    tags = _tags(page)
    assert not [t for t, _a in tags if t in ("iframe", "object", "embed", "video")]
    assert "data-video" not in page and "youtube-nocookie" not in page and "autoplay" not in page
    assert _requests_to_video_hosts(page) == []
    cards = re.findall(r'<p class="video-card">.*?</p>', page)
    assert len(cards) == 2  # the idea's lone link and the comment; the link in a sentence stays a link
    for card in cards:
        assert '<span class="video-card-label">Vidéo sur youtube.com</span>' in card
        assert f'<a href="{WATCH}" rel="nofollow ugc noopener">{WATCH}</a>' in card
    assert f"voir aussi <a href=\"{WATCH}\"" in page


def test_peertube_videos_of_the_configured_host_get_the_player_and_the_card(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "var", database_url, peertube_hosts=TUBE)
    with WebClient(create_app(settings), base_url="http://testserver") as web, web.db.session(write=True) as s:
        description = f"https://{TUBE}/w/{SHORT}\n\nhttps://other.example/w/{SHORT}"
        call = make_call(s, description_md=description, description_html=render_markdown(description))
        idea = make_idea(s, call, body=f"https://{TUBE}/videos/watch/{UUID}")
        s.commit()
        call_page = web.get(f"/calls/{call.slug}").text
        idea_page = web.get(f"/ideas/{idea.id}").text
    assert [a["data-embed"] for t, a in _tags(call_page) if t == "figure" and "data-video" in a] == [
        f"https://{TUBE}/videos/embed/{SHORT}"]
    assert f"hébergée par {TUBE}" in call_page
    assert not [t for t, _a in _tags(call_page) if t == "iframe"]
    watch = f"https://{TUBE}/w/{UUID}"
    assert (f'<p class="video-card"><span class="video-card-label">Vidéo sur {TUBE}</span> '
            f'<a href="{watch}" rel="nofollow ugc noopener">{watch}</a></p>') in idea_page


@pytest.mark.parametrize(("body", "cards"), [
    (f'[<img src=x onerror=alert(1)>](https://youtu.be/{ID} "x\\" onmouseover=alert(1)")', 1),
    (f'[<script>alert(1)</script>](https://www.youtube.com/watch?v={ID}&x="><script>alert(1)</script>)', 1),
    (f"https://www.youtube.com/watch?v={ID}&x=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", 1),
    (f'<p><a href="https://youtu.be/{ID}" onclick="alert(1)">x</a></p>', 0),
    (f'https://youtu.be/{ID}?"><iframe src="https://evil.example">', 0),
])
def test_a_hostile_text_cannot_inject_markup_through_the_card(body: str, cards: int) -> None:
    with language("en"):
        out = str(video_cards(richtext_filter(render_markdown(body))))
    assert "<script" not in out and "<iframe" not in out and "<img" not in out
    assert not [(t, a) for t, a in _tags(out) if any(name.startswith("on") for name in a)], out
    found = re.findall(r'<p class="video-card">.*?</p>', out)
    assert len(found) == cards, out
    for card in found:
        # A card is made of the parsed video alone: nothing of what the person wrote.
        assert card == (f'<p class="video-card"><span class="video-card-label">Video on youtube.com</span> '
                        f'<a href="{WATCH}" rel="nofollow ugc noopener">{WATCH}</a></p>')


def test_the_card_filter_never_turns_text_into_markup() -> None:
    raw = f'<p><a href="https://youtu.be/{ID}" rel="nofollow ugc noopener">x</a></p><script>alert(1)</script>'
    out = str(video_cards(raw))  # a plain string is text: escaped, no card
    assert "<script>" not in out and "video-card" not in out and "&lt;script&gt;" in out
