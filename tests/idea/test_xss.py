"""XSS payloads in every text field (title, body, alt text, display name, call texts) render as
inert text on every page, in the API and in the CSV, drafts included."""

import csv
import io
from html.parser import HTMLParser

from sqlmodel import Session

from app.account.models import Role
from app.call.models import Call
from app.idea.models import IdeaStatus
from app.richtext import render_markdown
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.idea.helpers import add_photo
from tests.support import WebClient

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
SVG = "<svg onload=alert(1)>"
ALL = f"{SCRIPT} {IMG} {LINK} {SVG}"


class ActiveContent(HTMLParser):
    """Collects what a browser would execute: inline scripts, event handlers, javascript: URLs, SVG."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = True
            if not dict(attrs).get("src", "").startswith("/static/"):
                self.problems.append(f"script {attrs}")
        if tag in ("iframe", "object", "embed"):  # (the site draws its own SVG charts; on* is checked below)
            self.problems.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}={value}")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    ("javascript:", "data:", "vbscript:")):
                self.problems.append(f"{tag} {name}={value}")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("injected img")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:40]}")
        self.text.append(data)


def assert_inert(html: str, where: str, shows: str | None = None) -> None:
    parser = ActiveContent()
    parser.feed(html)
    assert parser.problems == [], (where, parser.problems)
    if shows is not None:
        text = "".join(parser.text)
        assert shows in text or shows in html, (where, shows)


def _setup(session: Session, settings: Settings) -> dict[str, object]:
    call = make_call(session, title=f"Appel {SCRIPT}", summary=f"Résumé {IMG} {SVG}")
    call.description_md = ALL
    call.description_html = render_markdown(ALL)
    session.add(call)
    category = make_category(session, call, name=f"Thème {SVG}")
    district = make_district(session, name=f"Quartier {IMG}")
    author = make_user(session, display_name=f"{SCRIPT}{SVG}")
    other_author = make_user(session, display_name=IMG)
    public = make_idea(session, call, author, title=f"Idée {SCRIPT}{IMG}{SVG}", body=ALL, category=category,
                       district=district)
    add_photo(session, settings, public, alt=ALL)
    draft = make_idea(session, call, other_author, title=f"Brouillon {LINK}{SVG}", body=ALL,
                      status=IdeaStatus.draft)
    add_photo(session, settings, draft, alt=ALL)
    admin = make_user(session, role=Role.admin, display_name=f"Admin {SVG}")
    session.commit()
    return {"call": call, "public": public, "draft": draft, "author": author, "other": other_author, "admin": admin}


def test_payloads_render_inert_on_every_page(client: WebClient, session: Session, settings: Settings) -> None:
    data = _setup(session, settings)
    call, public, draft = data["call"], data["public"], data["draft"]
    assert isinstance(call, Call)
    pages = {
        "home": "/", "calls": "/calls", "call": f"/calls/{call.slug}", "sorted": f"/calls/{call.slug}?sort=random",
        "idea": f"/ideas/{public.id}",  # type: ignore[attr-defined]
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.text, name)
    idea_page = client.get(pages["idea"]).text
    assert_inert(idea_page, "idea", shows=SCRIPT)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in idea_page  # shown as text, escaped
    assert_inert(client.get(pages["call"]).text, "call", shows=f"Idée {SCRIPT}")

    # The author's draft, its edit form, and what a signed-in author sees.
    client.login_as(data["other"])  # type: ignore[arg-type]
    for url in (f"/ideas/{draft.id}", f"/ideas/{draft.id}/edit", f"/calls/{call.slug}"):  # type: ignore[attr-defined]
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.text, url)
    assert "Brouillon [x](javascript:alert(1))" in client.get(f"/ideas/{draft.id}").text  # type: ignore[attr-defined]

    # Administration pages.
    client.login_as(data["admin"])  # type: ignore[arg-type]
    for url in ("/admin", "/admin/calls", f"/admin/calls/{call.id}", "/admin/districts"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.text, url)


def test_payloads_are_plain_data_in_the_api_and_the_csv(client: WebClient, session: Session,
                                                        settings: Settings) -> None:
    data = _setup(session, settings)
    call, public = data["call"], data["public"]
    assert isinstance(call, Call)
    detail = client.get(f"/api/ideas/{public.id}")  # type: ignore[attr-defined]
    assert detail.headers["content-type"] == "application/json"
    assert detail.headers["x-content-type-options"] == "nosniff"
    body = detail.json()
    assert body["title"] == f"Idée {SCRIPT}{IMG}{SVG}"  # data, as typed
    assert_inert(body["body_html"], "api body_html")
    assert 'href="javascript:' not in body["body_html"]
    listing = client.get(f"/api/calls/{call.slug}/ideas").json()
    assert [i["title"] for i in listing["items"]] == [body["title"]]
    # The excerpt is plain text, like the title: what was typed, never HTML (pages escape it once).
    assert listing["items"][0]["excerpt"].startswith(SCRIPT)
    call_json = client.get(f"/api/calls/{call.slug}").json()
    assert_inert(call_json["description_html"], "api call description")

    export = client.get(f"/calls/{call.slug}/ideas.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[1][1] == f"Idée {SCRIPT}{IMG}{SVG}"
    assert "Brouillon" not in export.text


def test_csv_cells_cannot_become_formulas(client: WebClient, session: Session) -> None:
    call = make_call(session)
    for title in ("=HYPERLINK(\"http://evil\")", "+33 cmd", "-2+3", "@SUM(A1)"):
        make_idea(session, call, title=title, body="=1+1 dans le texte aussi, assez long pour le résumé.")
    session.commit()
    rows = list(csv.reader(io.StringIO(client.get(f"/calls/{call.slug}/ideas.csv").text.lstrip("\ufeff"))))
    titles = sorted(r[1] for r in rows[1:])
    assert titles == sorted(["'=HYPERLINK(\"http://evil\")", "'+33 cmd", "'-2+3", "'@SUM(A1)"])
    assert all(r[-1].startswith("'=") for r in rows[1:])
