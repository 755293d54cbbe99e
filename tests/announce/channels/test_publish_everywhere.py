"""A moderator publishes a call's results once; the worker delivers them to every configured
channel, on real servers: a Mastodon API server (mastodon-mock) and the Bluesky reference PDS.
Each network shows the post once, with the image and its alt text, however often the worker
runs, the network fails, or the announcement is queued again; replies come back, are moderated,
and a moderator's answer goes out once under the reply."""

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.announce import delivery, sending
from app.announce.models import (
    ChannelAccount,
    ChannelState,
    Delivery,
    DeliveryStatus,
    NetworkReply,
    ReplyStatus,
)
from app.settings import Settings
from tests.announce.channels.mastodon_server import MastodonServer
from tests.announce.helpers import add_channel
from tests.announce.test_delivery import _publish
from tests.factories import make_call, make_user
from tests.support import WebClient
from tests.support_pds import Pds

ALT = "Le parc de la Boverie au printemps"


def _bluesky(session: Session, settings: Settings, pds: Pds) -> None:
    add_channel(session, settings, "bluesky", "Bluesky de la Ville",
                config={"service": pds.url, "handle": pds.city.handle, "language": "fr"},
                secrets={"app_password": pds.city.app_password})


def _posts_about(pds: Pds, text: str) -> list[dict[str, Any]]:
    return [r for r in pds.list_records(pds.city.did) if text in str(r["value"]["text"])]  # type: ignore[index]


def test_results_reach_bluesky_once_with_the_image_and_its_alt_text(
        client: WebClient, session: Session, settings: Settings, bluesky_pds: Pds) -> None:
    _bluesky(session, settings, bluesky_pds)
    call = make_call(session, phase="results", slug="boverie", title="Parc de la Boverie")
    unique = f"Résultats de la Boverie {call.id}"
    announcement = _publish(session, settings, call, image=True, texts={"fr": unique, "nl": "Resultaten"})
    client.run_worker()
    client.run_worker()
    delivery.queue(session, announcement)  # queued again (a replay): nothing more
    session.commit()
    client.run_worker()
    [record] = _posts_about(bluesky_pds, unique)
    value = record["value"]
    assert value["text"] == f"{unique}\n\n{announcement.link}"
    assert value["langs"] == ["fr"]
    [image] = value["embed"]["images"]
    assert image["alt"] == ALT
    blob = bluesky_pds.get_blob(bluesky_pds.city.did, image["image"]["ref"]["$link"])
    assert blob[:3] in (b"\xff\xd8\xff", b"\x89PN", b"RIF")
    [row] = session.exec(select(Delivery)).all()
    assert row.status == DeliveryStatus.sent and row.remote_id == record["uri"]


def _mastodon(session: Session, settings: Settings, server: MastodonServer) -> ChannelAccount:
    return add_channel(session, settings, "mastodon", "Mastodon de la Ville", config=server.config(),
                       secrets=server.secrets())


def _rows(session: Session) -> list[Delivery]:
    session.expire_all()
    return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def _mastodon_row(session: Session, channel: ChannelAccount) -> Delivery:
    [row] = [r for r in _rows(session) if r.channel_id == channel.id and r.target == "post"]
    return row


def test_results_reach_mastodon_and_bluesky_once_with_the_image_and_its_alt_text(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer,
        bluesky_pds: Pds) -> None:
    _mastodon(session, settings, mastodon_server)
    _bluesky(session, settings, bluesky_pds)
    call = make_call(session, phase="results")
    unique = f"Les résultats {call.id} sont publiés"
    announcement = _publish(session, settings, call, image=True, texts={"fr": unique})
    for _ in range(3):
        client.run_worker()
    delivery.queue(session, announcement)
    session.commit()
    client.run_worker()
    [status] = [s for s in mastodon_server.statuses() if unique in s["content"]]
    assert status["visibility"] == "public" and status["language"] == "fr"
    [attachment] = status["media_attachments"]
    assert attachment["description"] == ALT
    assert len(_posts_about(bluesky_pds, unique)) == 1
    assert [r.status for r in _rows(session)] == [DeliveryStatus.sent, DeliveryStatus.sent]


def test_mastodon_failing_three_times_then_answering_posts_once_with_the_same_key(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    channel = _mastodon(session, settings, mastodon_server)
    _publish(session, settings, make_call(session, phase="results"))
    mastodon_server.fail_next("/api/v1/statuses", [500, 500, 500])
    key = _mastodon_row(session, channel).key
    waits: list[timedelta] = []
    shift = timedelta(0)
    for _ in range(3):
        with clock.travel(shift):
            client.run_worker()
            row = _mastodon_row(session, channel)
            assert row.status == DeliveryStatus.pending and "500" in row.last_error
            assert row.next_attempt_at is not None and row.key == key
            waits.append(row.next_attempt_at - clock.utcnow())
        shift += waits[-1] + timedelta(seconds=1)
    with clock.travel(shift):
        client.run_worker()
    row = _mastodon_row(session, channel)
    assert row.status == DeliveryStatus.sent and row.attempts == 4 and row.key == key
    assert len(mastodon_server.statuses()) == 1
    assert waits[0] < waits[1] < waits[2]


def test_a_mastodon_rate_limit_holds_mastodon_only_and_a_refused_token_parks_it(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer,
        bluesky_pds: Pds) -> None:
    channel = _mastodon(session, settings, mastodon_server)
    _bluesky(session, settings, bluesky_pds)
    reset = (clock.utcnow() + timedelta(minutes=20)).replace(microsecond=0)
    mastodon_server.fault(path="/api/v1/statuses", type="ratelimit",
                          headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")})
    call = make_call(session, phase="results")
    unique = f"Attente {call.id}"
    _publish(session, settings, call, texts={"fr": unique})
    client.run_worker()
    assert len(_posts_about(bluesky_pds, unique)) == 1  # Bluesky went on
    session.refresh(channel)
    assert channel.paused_until is not None and channel.paused_until >= reset - timedelta(seconds=1)
    with clock.travel(timedelta(minutes=10)):
        client.run_worker()
    assert mastodon_server.statuses() == [] and _mastodon_row(session, channel).status == "pending"
    with clock.travel(timedelta(minutes=21)):
        client.run_worker()
    assert len(mastodon_server.statuses()) == 1

    # The token is revoked: the channel is parked, not hammered.
    mastodon_server.fault(path="/api/v1/statuses", type="status", status=401, count=None)
    _publish(session, settings, call, event="free", texts={"fr": f"Deuxième {call.id}"})
    with clock.travel(timedelta(minutes=22)):
        client.run_worker()
        client.run_worker()
    session.refresh(channel)
    assert channel.state == ChannelState.needs_reauth
    parked = [r for r in _rows(session) if r.channel_id == channel.id][-1]
    assert parked.status == DeliveryStatus.waiting_auth and parked.attempts == 1


def test_replies_come_back_once_are_moderated_and_answered_once_under_the_reply(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    channel = _mastodon(session, settings, mastodon_server)
    announcement = _publish(session, settings, make_call(session, phase="results"))
    client.run_worker()
    post = _mastodon_row(session, channel)
    first = mastodon_server.reply(post.remote_id, "Merci ! Et le parc du quartier Nord ?")
    mastodon_server.reply(first["id"], "<b>Oui</b>, le parc Nord aussi svp", token=mastodon_server.observer_token)
    shift = timedelta(minutes=11)
    with clock.travel(shift):
        client.run_worker()
    with clock.travel(shift * 2):
        client.run_worker()  # read again: nothing new, nothing twice
    replies = session.exec(select(NetworkReply).order_by(NetworkReply.id)).all()  # type: ignore[arg-type]
    assert [(r.status, r.text) for r in replies] == [
        (ReplyStatus.pending, "Merci ! Et le parc du quartier Nord ?"),
        (ReplyStatus.pending, "<b>Oui</b>, le parc Nord aussi svp"),
    ]
    page = client.get(f"/announcements/{announcement.id}")
    assert "parc du quartier Nord" not in page.text  # nothing shown while pending

    moderator = make_user(session, role="moderator")
    client.login_as(moderator)
    queue = client.get("/moderation/replies")
    assert queue.text.count("parc du quartier Nord") == 1 and "&lt;b&gt;Oui&lt;/b&gt;" in queue.text
    assert "Réponses venues des réseaux" in client.get("/moderation").text
    assert client.submit(f"/moderation/replies/{replies[0].id}/approve").status_code == 303
    assert client.submit(f"/moderation/replies/{replies[1].id}/hide").status_code == 303
    answered = client.submit(f"/moderation/replies/{replies[0].id}/answer",
                             {"answer": "Le parc Nord est prévu pour 2027."})
    assert answered.status_code == 303
    client.run_worker()
    client.run_worker()  # the worker again (a restart): the answer is not posted twice
    under = [s for s in mastodon_server.descendants(first["id"]) if "prévu pour 2027" in s["content"]]
    assert len(under) == 1 and under[0]["in_reply_to_id"] == first["id"]
    with clock.travel(shift * 3):
        client.run_worker()  # the city's own answer is not collected as a reply
    assert len(session.exec(select(NetworkReply)).all()) == 2

    client.cookies.clear()
    page = client.get(f"/announcements/{announcement.id}")
    assert "Merci ! Et le parc du quartier Nord ?" in page.text and "@citoyenne@" in page.text
    assert "Le parc Nord est prévu pour 2027." in page.text and "La Ville a répondu" in page.text
    assert "parc Nord aussi" not in page.text  # hidden

    # Answering twice is refused; a report puts the reply back before moderators.
    client.login_as(moderator)
    assert client.submit(f"/moderation/replies/{replies[0].id}/answer", {"answer": "Encore"}).status_code == 409
    client.login_as(make_user(session))
    assert client.submit(f"/announcements/{announcement.id}/replies/{replies[0].id}/report").status_code == 303
    client.login_as(moderator)
    assert "1 signalement" in client.get("/moderation/replies").text


def test_a_mastodon_retry_after_its_key_expired_finds_the_status_instead_of_posting_again(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    """Mastodon forgets an Idempotency-Key after an hour: a retry later than that must look
    for the status an earlier attempt published (the worker died before recording it)."""
    channel = _mastodon(session, settings, mastodon_server)
    announcement = _publish(session, settings, make_call(session, phase="results"))
    row = _mastodon_row(session, channel)
    earlier = sending.outgoing(session, settings, announcement, "fr")
    # The earlier attempt: accepted under a key the server no longer remembers.
    accepted = mastodon_server.channel().post(earlier, key="forgotten-after-an-hour")
    row.attempts = 1
    session.add(row)
    session.commit()
    with clock.travel(timedelta(hours=2)):
        client.run_worker()
    assert len(mastodon_server.statuses()) == 1
    row = _mastodon_row(session, channel)
    assert row.status == DeliveryStatus.sent and row.remote_id == accepted.id
