"""Share previews: every public page carries Open Graph and Twitter card tags with absolute
addresses on BASE_URL; an idea the public may not see has none."""

from html.parser import HTMLParser

import pytest
from sqlmodel import Session

from app.clock import utcnow
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

BASE = "http://testserver"  # BASE_URL of the test settings


class _Head(HTMLParser):
    """The page's <meta property|name=... content=...> and <link rel=... href=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        elif tag == "link":
            self.links.append(values)


def head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def assert_valid_preview(html: str, url: str) -> dict[str, str]:
    page = head(html)
    meta = page.meta
    for key in ("og:title", "og:description", "og:site_name", "og:type", "og:image:alt", "twitter:title"):
        assert meta.get(key), key
    assert meta["og:url"] == url
    assert [link["href"] for link in page.links if link.get("rel") == "canonical"] == [url]
    assert meta["og:image"].startswith(BASE + "/")
    assert meta["twitter:image"] == meta["og:image"]
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:locale"] == "fr_BE"
    assert meta["twitter:card"] == "summary_large_image"
    return meta


def test_every_public_page_has_a_preview_on_base_url(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Liège à vélo", summary="Des idées pour pédaler")
    idea = make_idea(session, call, title="Des arceaux place Saint-Lambert", body="Des **arceaux** partout.")
    results = make_call(session, phase="results", title="Parcs 2026")
    make_idea(session, results, title="Un kiosque", winner=True)
    session.commit()

    assert_valid_preview(client.get("/").text, BASE + "/")
    assert_valid_preview(client.get("/calls").text, BASE + "/calls")
    # A filtered listing's canonical address is the call's page, without its query string.
    meta = assert_valid_preview(client.get(f"/calls/{call.slug}?sort=supported&page=1").text,
                                f"{BASE}/calls/{call.slug}")
    assert (meta["og:title"], meta["og:description"]) == ("Liège à vélo", "Des idées pour pédaler")
    assert meta["og:image"] == f"{BASE}/calls/{call.slug}/share.png"
    meta = assert_valid_preview(client.get(f"/calls/{results.slug}").text, f"{BASE}/calls/{results.slug}")
    assert meta["og:title"] == "Résultats\u202f: Parcs 2026"
    meta = assert_valid_preview(client.get(f"/ideas/{idea.id}").text, f"{BASE}/ideas/{idea.id}")
    assert (meta["og:title"], meta["og:type"]) == ("Des arceaux place Saint-Lambert", "article")
    assert meta["og:description"] == "Des arceaux partout."
    assert meta["og:image"] == f"{BASE}/ideas/{idea.id}/share.png"
    for image in (meta["og:image"], head(client.get("/").text).meta["og:image"]):
        response = client.get(image.removeprefix(BASE))
        assert (response.status_code, response.headers["content-type"]) == (200, "image/png")


def test_the_page_language_gives_og_locale(client: WebClient, session: Session) -> None:
    call = make_call(session)
    session.commit()
    assert head(client.get(f"/calls/{call.slug}?lang=nl").text).meta["og:locale"] == "nl_BE"
    assert head(client.get(f"/calls/{call.slug}?lang=de").text).meta["og:locale"] == "de_BE"


@pytest.mark.parametrize("state", [
    {"status": "draft"}, {"status": "submitted"}, {"status": "rejected"}, {"status": "withdrawn"},
    {"status": "published", "hidden_at": "now"},
])
def test_an_idea_the_public_may_not_see_has_no_preview_and_no_image(client: WebClient, session: Session,
                                                                    state: dict[str, str]) -> None:
    author = make_user(session)
    call = make_call(session)
    fields = {**state, "hidden_at": utcnow()} if "hidden_at" in state else state
    idea = make_idea(session, call, author, title="Projet secret de Droixhe", **fields)
    session.commit()

    assert client.get(f"/ideas/{idea.id}").status_code == 404
    assert client.get(f"/ideas/{idea.id}/share.png").status_code == 404
    assert "Projet secret" not in client.get(f"/calls/{call.slug}").text
    # Its author, or a moderator, may see the page, without a preview to share; the image stays 404.
    moderator = make_user(session, role="moderator")
    session.commit()
    seen = []
    for viewer in (author, moderator):
        client.login_as(viewer)
        page = client.get(f"/ideas/{idea.id}")
        if page.status_code == 200:
            seen.append(viewer.role)
            assert "Projet secret de Droixhe" in page.text
            assert "og:title" not in page.text and 'rel="canonical"' not in page.text
        assert client.get(f"/ideas/{idea.id}/share.png").status_code == 404
    assert seen  # someone saw the page, and it had no preview


def test_a_draft_call_has_no_share_image_nor_feed(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="draft")
    session.commit()
    assert client.get(f"/calls/{call.slug}/share.png").status_code == 404
    assert client.get(f"/calls/{call.slug}/feed.atom").status_code == 404


def test_error_pages_have_no_preview(client: WebClient) -> None:
    response = client.get("/ideas/987654")
    assert response.status_code == 404
    assert "og:title" not in response.text


def test_markup_in_a_title_is_escaped_in_the_tags(client: WebClient, session: Session) -> None:
    call = make_call(session, title='Vélo <script>alert(1)</script> & "co"')
    idea = make_idea(session, call, title="<script>alert(2)</script> & <b>gras</b>")
    session.commit()
    for url, title in ((f"/calls/{call.slug}", call.title), (f"/ideas/{idea.id}", idea.title)):
        html = client.get(url).text
        assert "<script>alert" not in html
        assert head(html).meta["og:title"] == title  # escaped in the HTML, the same text once parsed
    assert 'content="&lt;script&gt;alert(2)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;"' in html
    assert client.get(f"/ideas/{idea.id}/share.png").status_code == 200
    assert client.get(f"/calls/{call.slug}/share.png").status_code == 200
