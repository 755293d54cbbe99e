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


def test_the_demo_newsletter_is_written_to_var_mail_in_each_subscribers_language(client: WebClient) -> None:
    """No network is configured in the demo: its one channel, the newsletter, writes the
    announcements to files under var/mail/, one per subscriber, in their language."""
    from email import message_from_bytes, policy

    from app.newsletter.demo import DEMO_SUBSCRIBERS

    assert seed(client.db, client.settings)
    client.run_worker()
    files = [path.read_bytes() for path in sorted(client.settings.mail_dir.rglob("*")) if path.is_file()]
    written = [message_from_bytes(raw, policy=policy.default) for raw in files]
    to = {}
    for message in written:
        to.setdefault(str(message["To"]), []).append(message)
    for lang, email in DEMO_SUBSCRIBERS.items():
        assert to.get(email), f"no newsletter for {email}"
        message = to[email][0]
        assert message["Content-Language"] == lang
        # One unbroken <URL> (RFC 2369), never encoded words; over http, no one-click POST
        # (RFC 8058 is for https addresses: see tests/newsletter for the https case).
        assert message["List-Unsubscribe"].startswith("<http://testserver/newsletter/unsubscribe/")
        assert message["List-Unsubscribe-Post"] is None
    assert all(b"List-Unsubscribe: <http://testserver/" in raw for raw in files if b"lettre-" in raw)
    body = to[DEMO_SUBSCRIBERS["nl"]][0].get_body(preferencelist=("plain",)).get_content()
    assert "U ontvangt deze e-mail omdat u ingeschreven bent" in body, body  # Dutch for the Dutch subscriber
