"""The channels' tests: a real Mastodon API server (fixtures in `mastodon_server.py`, where
other test folders import them from)."""

from tests.announce.channels.mastodon_server import mastodon_server, mastodon_server_process

__all__ = ["mastodon_server", "mastodon_server_process"]
