"""The webhook channel against a real HTTP server on loopback that verifies each delivery with
the `standardwebhooks` verifier, as a receiving city system would: signatures valid, a tampered
body refused, one webhook-id per delivery key, every answer mapped to the contract's outcome,
timeouts and refused connections transient, and the configuration checked."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.announce.channels import webhook
from app.announce.channels.base import AuthFailed, OutgoingPost, RateLimited, Rejected, RemoteRef, Transient
from app.clock import utcnow
from app.i18n import catalogue
from tests.support import free_port

SECRET = webhook.new_secret()
POST = OutgoingPost(
    text="L’appel « Parcs » est ouvert.\n\nhttps://participation.example.be/calls/parcs", language="fr",
    link="https://participation.example.be/calls/parcs",
    texts={"fr": "L’appel « Parcs » est ouvert.", "nl": "De oproep „Parken” is open."},
    meta={"announcement_id": 7, "event": "call_opens", "call_slug": "parcs",
          "published_at": "2026-11-29T15:00:00+00:00", "url": "https://participation.example.be/announcements/7"},
)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: Any = None  # the parsed payload when the signature held
    error: str = ""


@dataclass
class Receiver:
    """What the receiving system got, and how it answers the next request."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks/reinventons")
    verifier = Webhook(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            delivery = Delivery(headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            try:
                delivery.verified = verifier.verify(body, delivery.headers)
            except WebhookVerificationError as exc:
                delivery.error = str(exc)
            state.deliveries.append(delivery)
            time.sleep(state.delay)
            self.send_response(state.status if delivery.error == "" else 401)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _channel(receiver: Receiver, timeout: float | None = None) -> webhook.WebhookChannel:
    if timeout is not None:
        return webhook.WebhookChannel(url=receiver.url, secret=SECRET, timeout=timeout)
    return webhook.build({"url": receiver.url}, {"secret": SECRET}, settings=None, db=None)  # type: ignore[arg-type]


def test_a_published_announcement_arrives_signed(receiver: Receiver) -> None:
    channel = _channel(receiver)
    assert (channel.kind, channel.idempotent, channel.collects_replies) == ("webhook", True, False)
    ref = channel.post(POST, key="delivery-key-1")
    assert ref == RemoteRef(id="delivery-key-1", extra={"announcement_id": 7})
    [delivery] = receiver.deliveries
    assert delivery.error == ""
    assert delivery.headers["webhook-id"] == "delivery-key-1"
    assert delivery.headers["content-type"] == "application/json"
    assert abs(int(delivery.headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
    event = delivery.verified
    assert event["type"] == "announcement.published"
    assert event["data"] == {**POST.meta, "texts": POST.texts, "link": POST.link}
    assert event["timestamp"].startswith(str(utcnow().year))

    # A body altered on the way no longer matches its signature; nor does another secret's.
    tampered = delivery.body.replace(b"Parcs", b"Pirates")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook.new_secret()).verify(delivery.body, delivery.headers)

    # A retry of the same delivery carries the same id, so the receiver can act once.
    channel.post(POST, key="delivery-key-1")
    channel.post(POST, key="delivery-key-2")
    assert [d.headers["webhook-id"] for d in receiver.deliveries] == ["delivery-key-1", "delivery-key-1",
                                                                      "delivery-key-2"]
    assert all(d.error == "" for d in receiver.deliveries)
    assert channel.find(POST, key="delivery-key-1") is None
    assert channel.replies(ref, since=None) == []


def test_delete_and_ping_are_signed_events_too(receiver: Receiver) -> None:
    channel = _channel(receiver)
    ref = channel.post(POST, key="k-1")
    channel.delete(ref)
    channel.delete(ref)  # a retried deletion: the same id
    first, second = receiver.deliveries[1:]
    assert first.verified["type"] == "announcement.deleted"
    assert first.verified["data"] == {"announcement_id": 7, "published_webhook_id": "k-1"}
    assert first.headers["webhook-id"] == second.headers["webhook-id"] != "k-1"
    assert channel.check() == "127.0.0.1 answered 204"
    ping = receiver.deliveries[-1]
    assert ping.error == "" and ping.verified["type"] == "ping"


@pytest.mark.parametrize(("status", "headers", "raised"), [
    (200, {}, None),
    (202, {}, None),
    (429, {"Retry-After": "120"}, RateLimited),
    (401, {}, AuthFailed),
    (403, {}, AuthFailed),
    (500, {}, Transient),
    (503, {}, Transient),
    (400, {}, Rejected),
    (404, {}, Rejected),
    (410, {}, Rejected),
    (301, {"Location": "https://elsewhere.example/"}, Rejected),
])
def test_each_answer_is_mapped(receiver: Receiver, status: int, headers: dict[str, str],
                               raised: type[Exception] | None) -> None:
    receiver.status, receiver.headers = status, headers
    channel = _channel(receiver)
    if raised is None:
        assert channel.post(POST, key="k").id == "k"
        return
    with pytest.raises(raised) as caught:
        channel.post(POST, key="k")
    assert SECRET not in str(caught.value) and "/hooks/" not in str(caught.value)
    assert str(status) in str(caught.value)
    if isinstance(caught.value, RateLimited):
        wait = caught.value.reset_at - utcnow()
        assert timedelta(seconds=100) < wait <= timedelta(seconds=121)


def test_retry_after_as_a_date_and_absent(receiver: Receiver) -> None:
    receiver.status = 429
    channel = _channel(receiver)
    with pytest.raises(RateLimited) as absent:
        channel.post(POST, key="k")
    assert timedelta(seconds=50) < absent.value.reset_at - utcnow() <= timedelta(seconds=61)
    later = utcnow() + timedelta(minutes=10)
    receiver.headers = {"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    with pytest.raises(RateLimited) as dated:
        channel.post(POST, key="k")
    assert abs((dated.value.reset_at - later).total_seconds()) < 5


def test_timeouts_and_refused_connections_are_transient(receiver: Receiver) -> None:
    receiver.delay = 1.5
    with pytest.raises(Transient, match="Timeout"):
        _channel(receiver, timeout=0.3).post(POST, key="k")
    receiver.delay = 0
    nobody = webhook.WebhookChannel(url=f"http://127.0.0.1:{free_port()}/hooks", secret=SECRET, timeout=2)
    with pytest.raises(Transient, match="ConnectError"):
        nobody.post(POST, key="k")


def test_the_receiver_refuses_a_wrong_secret(receiver: Receiver) -> None:
    # Signed with another secret: the receiver answers 401, the channel needs new credentials.
    with pytest.raises(AuthFailed):
        webhook.WebhookChannel(url=receiver.url, secret=webhook.new_secret()).post(POST, key="k")
    assert receiver.deliveries[0].error


def test_configuration_is_checked() -> None:
    assert webhook.new_secret().startswith("whsec_") and webhook.new_secret() != webhook.new_secret()
    ok = {"secret": webhook.new_secret()}
    assert webhook.validate_config({"url": "https://hooks.example.be/in"}, ok) == {}
    assert webhook.validate_config({"url": "https://hooks.example.be/in"}, {"secret": ""}) == {}
    assert webhook.validate_config({"url": "http://127.0.0.1:8080/in"}, ok) == {}
    assert webhook.validate_config({"url": "http://localhost/in"}, ok) == {}
    for url in ("http://hooks.example.be/in", "ftp://hooks.example.be/", "hooks.example.be", "",
                "https://user:pass@hooks.example.be/", "https://"):
        assert set(webhook.validate_config({"url": url}, ok)) == {"url"}, url
    for secret in ("not-a-secret", "whsec_!!!", "whsec_c2hvcnQ="):
        assert set(webhook.validate_config({"url": "https://hooks.example.be/in"}, {"secret": secret})) \
            == {"secret"}, secret
    # Every message is translated.
    french = catalogue("fr")
    messages = {**webhook.validate_config({"url": "http://hooks.example.be"}, {"secret": "x"}),
                **webhook.validate_config({"url": "nothing"}, {"secret": "whsec_!!!"})}
    messages["short"] = webhook.validate_config({"url": "https://a.be"}, {"secret": "whsec_c2hvcnQ="})["secret"]
    assert all(message in french for message in messages.values()), messages
    # A stored configuration that does not pass (saved before a rule, edited by hand) is not used.
    for config, secrets in (({"url": "https://hooks.example.be/in"}, {}),
                            ({"url": "http://hooks.example.be/in"}, ok),
                            ({"url": "https://hooks.example.be/in"}, {"secret": "whsec_c2hvcnQ="})):
        with pytest.raises(AuthFailed) as refused:
            webhook.build(config, secrets, settings=None, db=None)  # type: ignore[arg-type]
        assert "whsec" not in str(refused.value)


def test_the_body_is_the_json_that_was_signed(receiver: Receiver) -> None:
    _channel(receiver).post(POST, key="k")
    [delivery] = receiver.deliveries
    assert json.loads(delivery.body.decode("utf-8")) == delivery.verified
    assert "L’appel « Parcs »".encode() in delivery.body  # UTF-8, not escaped
