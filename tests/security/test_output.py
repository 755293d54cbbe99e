"""What leaves the platform says exactly what people wrote: escaped once in pages, never in
JSON, CSV or e-mails, and never runnable."""

import csv
import io
import logging
import re

import pytest
from sqlmodel import Session

from app.notify.service import unsubscribe_token
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

BODY = 'Tom & Jerry <b>gras</b> "cité" l\'été'


def test_excerpts_are_plain_text_escaped_exactly_once(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", slug="appel-extraits")
    make_idea(session, call, title="Une idée avec esperluette", body=BODY)
    api = client.get(f"/api/calls/{call.slug}/ideas").json()
    assert api["items"][0]["excerpt"] == BODY
    rows = list(csv.DictReader(io.StringIO(client.get(f"/calls/{call.slug}/ideas.csv").text.lstrip("\ufeff"))))
    assert rows[0]["excerpt"] == BODY
    page = client.get(f"/calls/{call.slug}").text
    assert "Tom &amp; Jerry &lt;b&gt;gras&lt;/b&gt;" in page
    assert "&amp;amp;" not in page and "&amp;lt;" not in page and "<b>gras" not in page


def test_the_access_log_never_holds_a_token(client: WebClient, session: Session,
                                            caplog: pytest.LogCaptureFixture) -> None:
    user = make_user(session)
    assert user.id is not None
    token = unsubscribe_token(client.settings, user_id=user.id, kind="comment")
    with caplog.at_level(logging.INFO, logger="app.access"):
        assert client.get(f"/notifications/unsubscribe/{token}").status_code == 200
        client.get("/account/password/reset", params={"token": "secret-reset-token"})
        client.get("/account/verify?token=secret-verify-token")
    lines = [r.getMessage() for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 3 and "/notifications/unsubscribe/[token]" in lines[0]
    assert not [line for line in lines if token in line or "secret-" in line or "?" in line]


def test_the_language_links_never_lead_to_another_site(client: WebClient) -> None:
    for path in ("//evil.example/x", "///evil.example", "/\\evil.example/x", "/%5Cevil.example/x"):
        page = client.get(f"http://testserver{path}")
        links = re.findall(r'href="([^"]*lang=en[^"]*)"', page.text)
        assert links and all(link.startswith("/") and link[1:2] not in ("/", "\\") for link in links), (path, links)
    page = client.get("/calls?sort=random&x=%22")
    assert 'href="/calls?sort=random&amp;x=%22&amp;lang=en"' in page.text


def test_the_open_data_page_works_under_the_content_security_policy(client: WebClient) -> None:
    """The footer's "Open data" link: a page of the site, in French, with no script from
    elsewhere and no inline script (Swagger UI had both, and the CSP left a blank page)."""
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Données ouvertes" in page.text and "/api/openapi.json" in page.text
    assert "GET /api/calls/{slug}/ideas" in page.text
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert all('src="/static/' in tag for tag in scripts), scripts
    assert "cdn." not in page.text
    assert client.get("/api/openapi.json").json()["paths"]
