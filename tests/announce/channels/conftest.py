"""Fixtures of the channels' tests: real servers where they run here."""

from tests.support_pds import bluesky_pds  # noqa: F401 - the Bluesky reference PDS (tests/support_pds.py)
