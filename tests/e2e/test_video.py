"""The city's videos in a real browser (issue 11): the call page and an announcement's page show
a click-to-load box; until "Lire la vidéo" is pressed the browser asks nothing of YouTube (seen
with Playwright's request events); the press, by keyboard or by mouse, puts the
youtube-nocookie player in the box and the focus in it. Nothing leaves the machine: requests to
the player's host are answered here by page.route with a tiny page named as a fake player.

Screenshots of the players before and after the press, at phone and desktop size, in
test-artifacts/screenshots/video-*.png."""

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, Route, expect

from app.announce.models import Announcement
from app.clock import utcnow
from app.richtext import render_markdown
from tests.e2e.harness import DESKTOP, MOBILE, SCREENSHOTS, E2EServer, check_page, log_of
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e

FIRST = "_2_-21bdGe4"
SECOND = "aaaaaaaaaaa"
VIDEO_HOSTS = re.compile(r"^https?://([^/]*\.)?(youtube\.com|youtube-nocookie\.com|ytimg\.com|youtu\.be|"
                         r"googlevideo\.com|ggpht\.com)(:\d+)?/", re.IGNORECASE)
# What the fake player answers in place of YouTube's: a page with a title, loading nothing.
FAKE_PLAYER = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Fake player</title></head>"
               "<body style='margin:0;background:#222;color:#fff;font:16px sans-serif'>"
               "<p>Fake youtube-nocookie player (tests/e2e/test_video.py)</p></body></html>")


def _watch_requests(page: Page) -> list[str]:
    """Every request the page makes to a video host, in order (answered by the fake player)."""
    seen: list[str] = []

    def on_request(request: Request) -> None:
        if VIDEO_HOSTS.match(request.url):
            seen.append(request.url)

    def fake_player(route: Route) -> None:
        if route.request.url.startswith("https://www.youtube-nocookie.com/embed/"):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=FAKE_PLAYER)
        else:
            route.abort()  # anything else from YouTube: never sent

    page.on("request", on_request)
    page.route(VIDEO_HOSTS, fake_player)
    return seen


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", MOBILE)):
        page.set_viewport_size(size)
        page.locator(".videos").screenshot(path=str(SCREENSHOTS / f"video-{name}-{label}.png"))
    page.set_viewport_size(DESKTOP)


def test_call_video_loads_nothing_from_youtube_until_played(server: E2EServer, page: Page) -> None:
    description = (f"Regardez la présentation du projet :\n\nhttps://www.youtube.com/watch?v={FIRST}\n\n"
                   f"Et la visite du site, à partir de 30 secondes : https://youtu.be/{SECOND}?t=30")
    with server.session() as s:
        call = make_call(s, slug=f"video-{uuid.uuid4().hex[:6]}", title="Des bancs et des arbres",
                         description_md=description, description_html=render_markdown(description))
        s.commit()
        slug = call.slug
    requests = _watch_requests(page)
    page.goto(f"/calls/{slug}")
    page.wait_for_load_state("networkidle")
    players = page.locator("figure[data-video]")
    expect(players).to_have_count(2)
    first, second = players.nth(0), players.nth(1)
    expect(first).to_contain_text("Cette vidéo est hébergée par youtube.com, qui peut déposer des cookies")
    expect(first.get_by_role("link", name=re.compile("^Regarder sur youtube.com"))).to_have_attribute(
        "href", f"https://www.youtube.com/watch?v={FIRST}")
    assert page.locator("iframe").count() == 0
    check_page(page, "video-call")
    _shoot(page, "call-before")
    assert requests == [], f"asked a video host before any click: {requests}"

    # By keyboard: the button is a real button, Enter plays it, the focus goes into the player.
    play = first.get_by_role("button", name="Lire la vidéo 1")
    play.focus()
    page.keyboard.press("Enter")
    frame = first.locator("iframe")
    expect(frame).to_have_attribute("src", f"https://www.youtube-nocookie.com/embed/{FIRST}?autoplay=1")
    expect(frame).to_have_attribute("title", "Vidéo 1 sur youtube.com")
    expect(frame).to_have_attribute("allow", "autoplay; fullscreen; picture-in-picture")
    expect(frame).to_have_attribute("referrerpolicy", "strict-origin-when-cross-origin")
    assert page.evaluate("() => document.activeElement && document.activeElement.tagName") == "IFRAME"
    expect(page.frame_locator("figure[data-video] >> nth=0 >> iframe").locator("body")).to_contain_text("Fake")
    assert requests == [f"https://www.youtube-nocookie.com/embed/{FIRST}?autoplay=1"], requests
    # The second video is still only a box: one press plays one video.
    assert second.locator("iframe").count() == 0
    # The "Watch on" link stays, under the player.
    expect(first.get_by_role("link", name=re.compile("^Regarder sur youtube.com"))).to_be_visible()

    second.get_by_role("button", name="Lire la vidéo 2").click()
    expect(second.locator("iframe")).to_have_attribute(
        "src", f"https://www.youtube-nocookie.com/embed/{SECOND}?start=30&autoplay=1")
    assert all(url.startswith("https://www.youtube-nocookie.com/embed/") for url in requests), requests
    # The 16:9 box on a phone: the player keeps the ratio and the page does not scroll sideways.
    page.set_viewport_size(MOBILE)
    box = second.locator("iframe").bounding_box()
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.02, box
    page.set_viewport_size(DESKTOP)
    _shoot(page, "call-after")
    check_page(page, "video-call-played", screenshot=False)
    assert not log_of(page).console_errors


def test_announcement_video_plays_after_a_click(server: E2EServer, page: Page) -> None:
    with server.session() as s:
        call = make_call(s, slug=f"annonce-video-{uuid.uuid4().hex[:6]}")
        announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Le bilan de l'appel, en vidéo."},
                                    link=f"https://youtu.be/{FIRST}", status="published", published_at=utcnow())
        s.add(announcement)
        s.commit()
        announcement_id = announcement.id
    requests = _watch_requests(page)
    page.goto(f"/announcements/{announcement_id}")
    page.wait_for_load_state("networkidle")
    check_page(page, "video-announcement")
    assert requests == []
    page.get_by_role("button", name="Lire la vidéo").click()
    expect(page.locator("figure[data-video] iframe")).to_have_attribute(
        "src", f"https://www.youtube-nocookie.com/embed/{FIRST}?autoplay=1")
    # The frame's address is set before its request leaves: wait for the player it loads (a busy
    # machine saw the list still empty when asserted at once).
    expect(page.frame_locator("figure[data-video] iframe").locator("body")).to_contain_text("Fake")
    assert requests == [f"https://www.youtube-nocookie.com/embed/{FIRST}?autoplay=1"]


def test_idea_video_link_is_a_card_that_loads_nothing(server: E2EServer, page: Page) -> None:
    with server.session() as s:
        call = make_call(s, slug=f"idee-video-{uuid.uuid4().hex[:6]}")
        idea = make_idea(s, call, title="Un banc face à la Meuse",
                         body=f"Comme dans cette vidéo :\n\nhttps://www.youtube.com/watch?v={FIRST}&t=42s\n\nMerci !")
        s.commit()
        idea_id = idea.id
    requests = _watch_requests(page)
    page.goto(f"/ideas/{idea_id}")
    page.wait_for_load_state("networkidle")
    card = page.locator(".video-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Vidéo sur youtube.com")
    expect(card.get_by_role("link")).to_have_attribute("href", f"https://www.youtube.com/watch?v={FIRST}&t=42s")
    assert page.locator("iframe, [data-video]").count() == 0
    check_page(page, "video-idea-card")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", MOBILE)):
        page.set_viewport_size(size)
        page.locator(".idea-body").screenshot(path=str(SCREENSHOTS / f"video-idea-card-{label}.png"))
    assert requests == []


def test_without_javascript_the_box_offers_the_link_only(server: E2EServer, new_page: Callable[..., Page]) -> None:
    description = f"https://youtu.be/{FIRST}"
    with server.session() as s:
        call = make_call(s, slug=f"sans-js-{uuid.uuid4().hex[:6]}", description_md=description,
                         description_html=render_markdown(description))
        s.commit()
        slug = call.slug
    page = new_page(java_script_enabled=False)
    requests = _watch_requests(page)
    page.goto(f"/calls/{slug}")
    player = page.locator("figure[data-video]")
    expect(player).to_contain_text("Cette vidéo est hébergée par youtube.com")
    # A button that could do nothing stays hidden; the link opens the video on its host.
    expect(player.get_by_role("button")).to_have_count(0)
    expect(player.get_by_role("link", name="Regarder sur youtube.com")).to_have_attribute(
        "href", f"https://www.youtube.com/watch?v={FIRST}")
    assert page.locator("iframe").count() == 0
    assert requests == []
