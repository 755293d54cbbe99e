"""The demonstration data has published announcements, so the feed has entries."""

import feedparser

from app.demo import seed
from tests.support import WebClient


def test_the_demo_publishes_announcements_for_the_feed(client: WebClient) -> None:
    assert seed(client.db, client.settings)
    parsed = feedparser.parse(client.get("/announcements/feed.atom").content)
    assert not parsed.bozo
    assert len(parsed.entries) >= 2
    assert all(entry.link.startswith("http://testserver/announcements/") for entry in parsed.entries)
    assert client.get("/announcements").status_code == 200
    client.run_worker()
