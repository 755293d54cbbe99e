"""Fixtures of the channels' tests: real servers where they run here. A Mastodon API server
(mastodon-mock; fixtures in `mastodon_server.py`, where other test folders import them from)
and the Bluesky reference PDS (tests/support_pds.py)."""

from tests.announce.channels.mastodon_server import mastodon_server, mastodon_server_process
from tests.support_pds import bluesky_pds

__all__ = ["bluesky_pds", "mastodon_server", "mastodon_server_process"]
