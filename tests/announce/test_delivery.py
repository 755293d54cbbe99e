"""Announcements reach every configured channel exactly once, whatever the networks answer.

Facebook and X cannot run here: their channels are driven against FAKE servers that answer
as the documented APIs do (tests/announce/fake_networks.py). Mastodon and Bluesky, which run
here for real, have their own tests in tests/announce/channels/.
"""

import io
import logging
import secrets
from datetime import timedelta

import httpx
import pytest
from PIL import Image as PILImage
from sqlmodel import Session, select

from app import clock
from app.announce import delivery, service
from app.announce.channels.base import AuthFailed, OutgoingPost, RemoteRef
from app.announce.channels.webhook import WebhookChannel
from app.announce.models import Announcement, ChannelAccount, ChannelState, Delivery, DeliveryStatus
from app.announce.sealing import seal, unseal
from app.call.models import Call
from app.media import service as media_service
from app.moderation import idea_decisions
from app.outbox.models import OutboxMessage, OutboxStatus
from app.settings import Settings
from tests.announce.fake_networks import FakeNetwork
from tests.announce.helpers import add_channel
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def _facebook(session: Session, settings: Settings, graph: FakeNetwork) -> ChannelAccount:
    return add_channel(session, settings, "facebook", "Page de la Ville",
                       config={"page_id": "1234567890", "language": "fr", "graph_url": graph.url},
                       secrets={"page_access_token": graph.token})


def _x(session: Session, settings: Settings, xnet: FakeNetwork, token: str | None = None) -> ChannelAccount:
    return add_channel(session, settings, "x", "Compte X", config={"language": "nl", "api_url": xnet.url},
                       secrets={"access_token": token or xnet.token})


def _png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (900, 600), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


def _publish(session: Session, settings: Settings, call: Call, *, event: str = "results_published",
             texts: dict[str, str] | None = None, image: bool = False, idea_id: int | None = None) -> Announcement:
    """An announcement published by a moderator, as the compose page would."""
    mod = make_user(session, role="moderator")
    image_id = None
    if image:
        cover = media_service.store_image(session, settings, data=_png(), owner_id=None)
        image_id = cover.id
    announcement = Announcement(call_id=call.id, idea_id=idea_id, event=event,
                                texts=texts or {"fr": "Les résultats sont publiés !", "nl": "De resultaten zijn er!"},
                                link=settings.absolute_url(f"/calls/{call.slug}"), image_id=image_id,
                                image_alt="Le parc de la Boverie au printemps" if image else "", author_id=mod.id)
    session.add(announcement)
    session.commit()
    service.publish(session, actor=mod, announcement=announcement, confirmed=True)
    session.commit()
    return announcement


def _deliveries(session: Session) -> list[Delivery]:
    session.expire_all()
    return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def test_results_go_out_once_to_each_channel_with_the_image_and_alt_text(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork, xnet: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    _x(session, settings, xnet)
    call = make_call(session, phase="results", slug="parcs")
    announcement = _publish(session, settings, call, image=True)
    assert [d.status for d in _deliveries(session)] == ["pending", "pending"]

    client.run_worker()
    client.run_worker()  # nothing more
    [fb_post] = graph.posts
    assert fb_post["message"] == f"Les résultats sont publiés !\n\n{announcement.link}"  # the page's language
    assert fb_post["alt"] == "Le parc de la Boverie au printemps"
    assert fb_post["image"][:3] in (b"\xff\xd8\xff", b"\x89PN", b"RIF")  # a re-encoded picture
    [x_post] = xnet.posts
    assert x_post["text"].startswith("De resultaten zijn er!")  # the account's language
    assert [m["alt"] for m in x_post["media"]] == ["Le parc de la Boverie au printemps"]
    rows = _deliveries(session)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert rows[0].remote_url == f"https://www.facebook.com/{fb_post['id']}"
    assert rows[1].remote_url == f"https://x.com/i/web/status/{x_post['id']}"
    # Publishing it again is refused; queueing it again (a second worker, a replay) adds nothing.
    delivery.queue(session, announcement)
    session.commit()
    client.run_worker()
    assert len(graph.posts) == len(xnet.posts) == 1 and len(_deliveries(session)) == 2


def test_server_errors_are_retried_with_growing_waits_and_post_once(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    _publish(session, settings, call)
    graph.faults += [(500, {}, b'{"error": {"code": 2, "is_transient": true}}')] * 2 + [(503, {}, b"down")]
    waits: list[timedelta] = []
    shift = timedelta(0)
    for _ in range(3):
        with clock.travel(shift):
            client.run_worker()
            [row] = _deliveries(session)
            assert row.status == "pending" and row.last_error and row.next_attempt_at is not None
            waits.append(row.next_attempt_at - clock.utcnow())
        shift += waits[-1] + timedelta(seconds=1)
    with clock.travel(shift):
        client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "sent" and row.attempts == 4 and row.last_error == ""
    assert len(graph.posts) == 1
    assert waits[0] < waits[1] < waits[2]
    assert timedelta(seconds=15) <= waits[0] <= timedelta(seconds=30)
    # Before each retry the channel looked for the post on the page (no idempotency key there).
    methods = [(m, p) for m, p, _h in graph.requests]
    assert methods.count(("GET", "/1234567890/feed")) == 3


def test_a_rate_limit_pauses_that_channel_while_the_other_goes_on(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork, xnet: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    x_channel = _x(session, settings, xnet)
    call = make_call(session, phase="results")
    reset = int((clock.utcnow() + timedelta(minutes=15)).timestamp())
    xnet.faults.append((429, {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}, b"{}"))
    _publish(session, settings, call)
    client.run_worker()
    assert len(graph.posts) == 1 and not xnet.posts
    session.refresh(x_channel)
    assert x_channel.paused_until is not None and int(x_channel.paused_until.timestamp()) == reset
    # A second announcement meanwhile: Facebook gets it, X is not even asked before the reset.
    _publish(session, settings, call, event="free", texts={"fr": "Deuxième nouvelle", "nl": "Tweede nieuws"})
    asked = len(xnet.requests)
    with clock.travel(timedelta(minutes=10)):
        client.run_worker()
    assert len(graph.posts) == 2 and len(xnet.requests) == asked
    with clock.travel(timedelta(minutes=16)):
        client.run_worker()
    assert len(xnet.posts) == 2
    x_rows = [r for r in _deliveries(session) if r.channel_id == x_channel.id]
    assert [r.status for r in x_rows] == ["sent", "sent"]
    assert x_rows[0].attempts == 1  # the wait was not counted as a failure


def test_refused_credentials_park_the_channel_without_retrying(
        client: WebClient, session: Session, settings: Settings, xnet: FakeNetwork) -> None:
    channel = _x(session, settings, xnet, token="revoked")
    call = make_call(session, phase="results")
    _publish(session, settings, call)
    client.run_worker()
    session.refresh(channel)
    assert channel.state == ChannelState.needs_reauth and "401" in channel.state_note
    assert "revoked" not in channel.state_note
    [row] = _deliveries(session)
    assert row.status == DeliveryStatus.waiting_auth
    asked = len(xnet.requests)
    with clock.travel(timedelta(hours=7)):
        client.run_worker()
    assert len(xnet.requests) == asked  # no retry storm
    # An administrator saves a valid token: what was parked goes out, once.
    channel.secrets_sealed = seal(settings, {"access_token": xnet.token})
    delivery.resume_channel(session, channel)
    session.commit()
    client.run_worker()
    assert len(xnet.posts) == 1 and _deliveries(session)[0].status == "sent"


def test_a_post_the_network_took_but_never_confirmed_is_found_not_repeated(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    _publish(session, settings, call)
    graph.drop_after_work = 1  # posted, then the connection drops before the answer
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "pending" and len(graph.posts) == 1
    with clock.travel(timedelta(minutes=2)):
        client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "sent" and row.remote_id == graph.posts[0]["id"]
    assert len(graph.posts) == 1


def test_a_post_refused_for_good_is_dead_at_once_and_a_retry_by_staff_finds_nothing_twice(
        client: WebClient, session: Session, settings: Settings, xnet: FakeNetwork) -> None:
    _x(session, settings, xnet)
    call = make_call(session, phase="results")
    xnet.faults.append((403, {}, b'{"detail": "duplicate content", "status": 403}'))
    _publish(session, settings, call)
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == DeliveryStatus.dead and "HTTP 403" in row.last_error
    admin = make_user(session, role="admin")
    delivery.retry(session, actor=admin, delivery=row)
    session.commit()
    client.run_worker()
    assert _deliveries(session)[0].status == "sent" and len(xnet.posts) == 1


def test_after_the_last_attempt_a_delivery_is_dead(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    _publish(session, settings, call)
    graph.faults += [(502, {}, b"bad gateway")] * (delivery.MAX_ATTEMPTS * 2)
    for _ in range(delivery.MAX_ATTEMPTS):
        with clock.travel(timedelta(hours=7) * (_ + 1)):
            client.run_worker()
    [row] = _deliveries(session)
    assert row.status == DeliveryStatus.dead and row.attempts == delivery.MAX_ATTEMPTS
    assert not graph.posts


def test_an_idea_hidden_before_delivery_cancels_it_and_after_deletes_the_post(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    mod = make_user(session, role="moderator")
    first = make_idea(session, call, answer_status="accepted")
    second = make_idea(session, call, answer_status="accepted")
    early = _publish(session, settings, call, event="idea_answered", idea_id=first.id)
    idea_decisions.hide_idea(session, actor=mod, idea=first, reason="Propos injurieux", settings=settings)
    session.commit()
    client.run_worker()
    rows = _deliveries(session)
    assert [r.status for r in rows] == [DeliveryStatus.cancelled] and not graph.posts
    assert client.get(f"/announcements/{early.id}").status_code == 404

    _publish(session, settings, call, event="idea_answered", idea_id=second.id)
    client.run_worker()
    assert len(graph.posts) == 1
    idea_decisions.hide_idea(session, actor=mod, idea=second, reason="Doublon caché", settings=settings)
    session.commit()
    client.run_worker()
    assert not graph.posts  # deleted from the page
    assert _deliveries(session)[1].status == DeliveryStatus.deleted
    jobs = session.exec(select(OutboxMessage).where(OutboxMessage.kind == delivery.DELETE_KIND)).all()
    assert [j.status for j in jobs] == [OutboxStatus.done]


def test_a_rolled_back_publication_queues_no_delivery(client: WebClient, session: Session, settings: Settings,
                                                      graph: FakeNetwork) -> None:
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    mod = make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Jamais"}, author_id=mod.id)
    session.add(announcement)
    session.commit()
    with pytest.raises(RuntimeError), client.db.transaction() as tx:
        loaded, actor = tx.get(Announcement, announcement.id), tx.get(type(mod), mod.id)
        assert loaded is not None and actor is not None
        service.publish(tx, actor=actor, announcement=loaded)
        raise RuntimeError("the request failed after publishing")
    assert not _deliveries(session)
    client.run_worker()
    assert not graph.posts


def test_an_expired_x_token_is_renewed_with_the_refresh_token_and_kept_sealed(
        client: WebClient, session: Session, settings: Settings, xnet: FakeNetwork) -> None:
    """X access tokens last two hours: the channel refreshes its own (the refresh token is
    rotated at each use) and the new pair is stored sealed for the next post."""
    xnet.refresh_token = "refresh-first"
    channel = add_channel(session, settings, "x", "Compte X", config={"language": "fr", "api_url": xnet.url},
                          secrets={"access_token": "expired-two-hours-ago", "refresh_token": "refresh-first"})
    call = make_call(session, phase="results")
    _publish(session, settings, call)
    client.run_worker()
    assert len(xnet.posts) == 1
    session.refresh(channel)
    stored = unseal(settings, channel.secrets_sealed)
    assert stored == {"access_token": xnet.token, "refresh_token": xnet.refresh_token}
    assert "refresh-first" not in channel.secrets_sealed and xnet.token not in channel.secrets_sealed
    _publish(session, settings, call, event="free", texts={"fr": "Deuxième", "nl": "Tweede"})
    refreshes = sum(1 for _m, path, _h in xnet.requests if path == "/2/oauth2/token")
    client.run_worker()
    assert len(xnet.posts) == 2
    assert sum(1 for _m, path, _h in xnet.requests if path == "/2/oauth2/token") == refreshes  # still valid
    # The authorisation revoked at X: the refresh is refused, the channel waits for an administrator.
    xnet.token, xnet.refresh_token = "revoked-by-x", ""
    _publish(session, settings, call, event="free", texts={"fr": "Troisième", "nl": "Derde"})
    client.run_worker()
    session.refresh(channel)
    assert channel.state == ChannelState.needs_reauth


@pytest.mark.parametrize("refusal", ["httpx error", "credentials refused"])
def test_a_failure_naming_a_url_shows_its_host_and_status_but_no_token_or_password(
        client: WebClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, refusal: str) -> None:
    """A delivery's error is logged, kept as its last error and listed on the deliveries page. When
    it quotes the URL the client called (an httpx error's text does; so may a network's answer),
    the administrators read the error's kind, the status, the host and the path: not the user and
    password of the URL, nor the token of its query string."""
    secret = secrets.token_urlsafe(16)  # made now: no source line shown with the error holds it
    url = f"https://city:{secret}@hooks.example.be/announcements?access_token={secret}"

    def post(_self: WebhookChannel, _post: OutgoingPost, *, key: str) -> RemoteRef:
        if refusal == "credentials refused":
            raise AuthFailed(f"HTTP 401 from {url}")
        httpx.Response(401, request=httpx.Request("POST", url)).raise_for_status()  # a client's unforeseen error
        raise AssertionError("a 401 raises")

    monkeypatch.setattr(WebhookChannel, "post", post)
    channel = add_channel(session, settings)  # a webhook
    _publish(session, settings, make_call(session, phase="results"))
    caplog.set_level(logging.INFO)
    client.run_worker()

    [row] = _deliveries(session)
    assert row.attempts == 1 and row.status in (DeliveryStatus.pending, DeliveryStatus.waiting_auth)
    assert "hooks.example.be/announcements" in row.last_error and "401" in row.last_error
    assert secret not in row.last_error
    assert secret not in caplog.text and "hooks.example.be/announcements" in caplog.text
    session.refresh(channel)
    assert secret not in channel.state_note
    messages = session.exec(select(OutboxMessage)).all()
    assert not any(secret in (m.last_error or "") for m in messages)
    client.login_as(make_user(session, role="admin"))
    page = client.get("/moderation/deliveries")
    assert page.status_code == 200 and "hooks.example.be/announcements" in page.text and "401" in page.text
    assert secret not in page.text
