"""Fixtures of the announcement tests: the FAKE Graph API and X API servers
(tests/announce/fake_networks.py), fresh for each test."""

from collections.abc import Iterator

import pytest

from tests.announce.fake_networks import FakeNetwork, graph_api, x_api


@pytest.fixture
def graph() -> Iterator[FakeNetwork]:
    """A FAKE Graph API for page 1234567890 (its token: `graph.token`)."""
    with graph_api() as network:
        yield network


@pytest.fixture
def xnet() -> Iterator[FakeNetwork]:
    """A FAKE X API v2 for @VilleDeLiege (its token: `xnet.token`)."""
    with x_api() as network:
        yield network
