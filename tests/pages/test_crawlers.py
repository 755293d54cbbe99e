"""What browsers and crawlers ask the root for (issue 15): favicon.ico, robots.txt and a sitemap
that lists public pages only (sitemaps.org protocol)."""

import io
import xml.etree.ElementTree as ET

from PIL import Image
from sqlmodel import Session

from app.pages import sitemap
from tests.factories import make_call, make_idea
from tests.support import WebClient

NS = {"s": sitemap.NAMESPACE}


def _locs(xml: str) -> list[str]:
    return [e.text or "" for e in ET.fromstring(xml).iterfind(".//s:loc", NS)]


def test_favicon_is_an_icon(client: WebClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    with Image.open(io.BytesIO(response.content)) as icon:
        assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]


def test_robots_keeps_crawlers_out_of_personal_and_staff_pages(client: WebClient) -> None:
    text = client.get("/robots.txt").text
    for path in ("/account", "/moderation", "/admin", "/search"):
        assert f"Disallow: {path}\n" in text
    assert f"Sitemap: {client.settings.base_url}/sitemap.xml" in text


def test_the_sitemap_lists_only_what_a_visitor_may_see(client: WebClient, session: Session) -> None:
    open_call = make_call(session, phase="voting", slug="mobilite")
    hidden_call = make_call(session, phase="draft", slug="en-preparation")
    public = make_idea(session, open_call, status="published")
    hidden = make_idea(session, open_call, status="published", hidden_at=public.created_at)
    draft = make_idea(session, open_call, status="draft")
    merged = make_idea(session, open_call, status="merged")
    in_draft_call = make_idea(session, hidden_call, status="published")
    session.commit()
    base = client.settings.base_url

    index = _locs(client.get("/sitemap.xml").text)
    assert index == [f"{base}/sitemap-pages.xml", f"{base}/sitemap-ideas-1.xml"]
    pages = _locs(client.get("/sitemap-pages.xml").text)
    assert f"{base}/calls/mobilite" in pages and f"{base}/calls/en-preparation" not in pages
    assert {f"{base}/privacy", f"{base}/terms", f"{base}/accessibility", f"{base}/contact"} <= set(pages)
    ideas = _locs(client.get("/sitemap-ideas-1.xml").text)
    assert ideas == [f"{base}/ideas/{public.id}"]
    for idea in (hidden, draft, merged, in_draft_call):
        assert f"{base}/ideas/{idea.id}" not in ideas
    assert client.get("/sitemap-ideas-2.xml").status_code == 404
    assert client.get("/sitemap-ideas-0.xml").status_code == 404


def test_ideas_are_split_into_files_by_id(client: WebClient, session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sitemap, "IDEAS_PER_FILE", 2)
    call = make_call(session, phase="voting")
    ideas = [make_idea(session, call, status="published") for _ in range(5)]
    session.commit()
    index = _locs(client.get("/sitemap.xml").text)
    files = [loc for loc in index if "sitemap-ideas-" in loc]
    assert len(files) == max(i.id for i in ideas) // 2 + 1  # type: ignore[operator]
    listed = [loc for n in range(1, len(files) + 1) for loc in _locs(client.get(f"/sitemap-ideas-{n}.xml").text)]
    assert listed == [f"{client.settings.base_url}/ideas/{i.id}" for i in ideas]
