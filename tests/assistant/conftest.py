"""Fixtures of the assistant's tests: the real Mastodon API server (mastodon-mock) for the
mentions of the city's account (tests/announce/channels/mastodon_server.py)."""

from tests.announce.channels.mastodon_server import mastodon_server, mastodon_server_process

__all__ = ["mastodon_server", "mastodon_server_process"]
