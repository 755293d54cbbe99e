"""A moderator with 300 ideas to review judges the obvious ones from the queue (issue 15): each
item shows the start of its text, plain and escaped, and each cell names its column for the
phone layout, where the table reads as cards."""

from sqlmodel import Session

from tests.factories import make_idea
from tests.moderation.helpers import world
from tests.support import WebClient


def test_the_pending_queue_shows_each_ideas_first_words(client: WebClient, session: Session) -> None:
    w = world(session)
    body = "**Des bancs** à l'ombre <script>alert(1)</script> " + "le long de la Meuse " * 30
    make_idea(session, w.call, w.author, status="submitted", title="Ombre et bancs", body=body)
    session.commit()
    client.login_as(w.moderator)
    page = client.get("/moderation").text
    row = page[page.index("Ombre et bancs"):]
    row = row[:row.index("</tr>")]
    assert '<p class="queue-excerpt user-text">Des bancs à l&#39;ombre' in row  # Markdown gone, text kept
    assert "<script>" not in row and "**" not in row
    assert "…" in row and len(row.split('queue-excerpt user-text">')[1].split("</p>")[0]) < 200
    assert 'data-label="Idée"' in row and 'data-label="Appel"' in row and 'data-label="En attente depuis"' in row
