"""What leaves the platform says exactly what people wrote: escaped once in pages, never in
JSON, CSV or e-mails, and never runnable."""

import csv
import io

from sqlmodel import Session

from tests.factories import make_call, make_idea
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
