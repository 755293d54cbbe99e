"""The Facebook and X channels against FAKE servers that answer as the documented APIs do
(tests/announce/fake_networks.py): what they send, and how they read each answer."""

from datetime import timedelta

import pytest

from app import clock
from app.announce.channels import facebook, x
from app.announce.channels.base import AuthFailed, OutgoingPost, RateLimited, Rejected, RemoteRef, Transient
from tests.announce.fake_networks import FakeNetwork

POST = OutgoingPost(text="Votez avant dimanche ! https://participer.liege.be/calls/parcs", language="fr",
                    link="https://participer.liege.be/calls/parcs")


def _fb(graph: FakeNetwork, token: str | None = None) -> facebook.FacebookChannel:
    return facebook.FacebookChannel(page_id="1234567890", token=token or graph.token, graph_url=graph.url)


def _x(xnet: FakeNetwork, token: str | None = None) -> x.XChannel:
    return x.XChannel(token=token or xnet.token, api_url=xnet.url)


def test_facebook_posts_with_the_link_and_the_token_only_in_a_header(graph: FakeNetwork) -> None:
    channel = _fb(graph)
    assert channel.check() == "Ville de Liège"
    ref = channel.post(POST, key="k1")
    assert graph.posts == [{"id": ref.id, "message": POST.text, "link": POST.link}]
    assert ref.url == f"https://www.facebook.com/{ref.id}"
    assert all(graph.token not in path for _m, path, _h in graph.requests)
    assert channel.find(POST, key="k1") == RemoteRef(id=ref.id, url=f"https://www.facebook.com/{ref.id}")
    assert channel.find(OutgoingPost(text="Autre chose", language="fr"), key="k2") is None
    channel.delete(ref)
    channel.delete(ref)  # already gone: still fine
    assert graph.posts == []


@pytest.mark.parametrize(("status", "body", "headers", "error"), [
    (400, b'{"error": {"code": 190, "message": "Error validating access token"}}', {}, AuthFailed),
    (400, b'{"error": {"code": 32}}', {"x-business-use-case-usage":
                                        '{"1234567890": [{"estimated_time_to_regain_access": 7}]}'}, RateLimited),
    (500, b'{"error": {"code": 1, "is_transient": true}}', {}, Transient),
    (503, b"<html>down</html>", {}, Transient),
    (400, b'{"error": {"code": 506, "message": "Duplicate status message"}}', {}, Rejected),
])
def test_facebook_reads_graph_errors(graph: FakeNetwork, status: int, body: bytes, headers: dict[str, str],
                                     error: type[Exception]) -> None:
    graph.faults.append((status, headers, body))
    with pytest.raises(error) as raised:
        _fb(graph).post(POST, key="k")
    assert graph.token not in str(raised.value)
    if isinstance(raised.value, RateLimited):
        wait = raised.value.reset_at - clock.utcnow()
        assert timedelta(minutes=6) < wait <= timedelta(minutes=7)


def test_facebook_refused_token_and_config_checks(graph: FakeNetwork) -> None:
    with pytest.raises(AuthFailed):
        _fb(graph, token="wrong").check()
    assert "page_id" in facebook.validate_config({"page_id": "abc"}, {})
    assert "graph_url" in facebook.validate_config({"page_id": "1", "graph_url": "http://evil.example"}, {})
    assert facebook.validate_config({"page_id": "123", "graph_url": ""}, {}) == {}


def test_a_closed_port_or_a_timeout_is_transient() -> None:
    with pytest.raises(Transient):
        facebook.FacebookChannel(page_id="1", token="t", graph_url="http://127.0.0.1:9").post(POST, key="k")


def test_x_posts_a_reply_with_an_image_and_its_alt_text(xnet: FakeNetwork) -> None:
    from app.announce.channels.base import Image

    channel = _x(xnet)
    assert channel.check() == "@VilleDeLiege"
    first = channel.post(POST, key="k1")
    answer = OutgoingPost(text="Merci pour votre question", language="fr", in_reply_to=first,
                          image=Image(data=b"\x89PNG fake", mime="image/png", alt="Plan du parc"))
    second = channel.post(answer, key="k2")
    assert [p["reply_to"] for p in xnet.posts] == [None, first.id]
    assert xnet.posts[1]["media"] == [{"data": b"\x89PNG fake", "category": "tweet_image", "alt": "Plan du parc"}]
    assert second.url == f"https://x.com/i/web/status/{second.id}"
    # X shows the link rewritten to t.co: the post is still found by its text.
    assert channel.find(POST, key="k1") == first
    channel.delete(first)
    channel.delete(first)
    assert [p["id"] for p in xnet.posts] == [second.id]


def test_x_reads_its_answers(xnet: FakeNetwork) -> None:
    reset = int((clock.utcnow() + timedelta(minutes=15)).timestamp())
    xnet.faults.append((429, {"x-rate-limit-reset": str(reset)}, b"{}"))
    with pytest.raises(RateLimited) as limited:
        _x(xnet).post(POST, key="k")
    assert int(limited.value.reset_at.timestamp()) == reset
    with pytest.raises(AuthFailed):
        _x(xnet, token="revoked").post(POST, key="k")
    xnet.faults.append((200, {}, b"not json"))
    with pytest.raises(Transient):
        _x(xnet).post(POST, key="k")
    _x(xnet).post(POST, key="k")
    with pytest.raises(Rejected, match="HTTP 403"):  # a duplicate: refused for good
        _x(xnet).post(POST, key="k2")
    assert x.validate_config({"api_url": "ftp://x"}, {}) and x.validate_config({}, {}) == {}
