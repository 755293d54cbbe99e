"""Review of issue 11: replies keep coming back after a network's bad hour or a refused token
(a real Mastodon API server, mastodon-mock)."""

from datetime import timedelta

from sqlmodel import Session, select

from app import clock
from app.announce import channel_accounts
from app.announce.models import ChannelAccount, ChannelState, NetworkReply
from app.settings import Settings
from tests.announce.channels.mastodon_server import MastodonServer
from tests.announce.channels.test_publish_everywhere import _mastodon, _mastodon_row, _publish
from tests.factories import make_call, make_user
from tests.support import WebClient

SLOT = timedelta(minutes=11)


def _collected(session: Session) -> list[str]:
    session.expire_all()
    return [r.text for r in session.exec(select(NetworkReply)).all()]


def test_replies_are_still_collected_after_the_server_failed_for_more_than_an_hour(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    channel = _mastodon(session, settings, mastodon_server)
    _publish(session, settings, make_call(session, phase="results"))
    client.run_worker()
    post = _mastodon_row(session, channel)
    mastodon_server.fault(path=f"/api/v1/statuses/{post.remote_id}/context", methods=["GET"], status=502,
                          count=None)
    shift = SLOT
    for _ in range(12):  # two hours of a server in maintenance, read as the worker would
        shift += timedelta(minutes=15)
        with clock.travel(shift):
            client.run_worker()
    mastodon_server.clear_faults()
    mastodon_server.reply(post.remote_id, "Le serveur est revenu : et le parc ?")
    for _ in range(3):
        shift += SLOT
        with clock.travel(shift):
            client.run_worker()
    assert _collected(session) == ["Le serveur est revenu : et le parc ?"]


def test_replies_are_collected_again_once_an_administrator_saved_new_credentials(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    channel = _mastodon(session, settings, mastodon_server)
    _publish(session, settings, make_call(session, phase="results"))
    client.run_worker()
    post = _mastodon_row(session, channel)
    mastodon_server.fault(path=f"/api/v1/statuses/{post.remote_id}/context", methods=["GET"], status=401,
                          count=None)
    with clock.travel(SLOT):
        client.run_worker()
    session.expire_all()
    channel = session.get(ChannelAccount, channel.id)
    assert channel is not None and channel.state == ChannelState.needs_reauth  # the administrators are told
    mastodon_server.clear_faults()
    mastodon_server.reply(post.remote_id, "Toujours là ?")
    # The administrator types the token again (the server's refusal was its own mistake).
    channel_accounts.save(session, settings, actor=make_user(session, role="admin"), channel=channel,
                          kind_key="mastodon", label=channel.label,
                          values={**mastodon_server.config(), "access_token": mastodon_server.city_token})
    session.commit()
    session.expire_all()
    assert session.get(ChannelAccount, channel.id).state == ChannelState.ok  # type: ignore[union-attr]
    with clock.travel(SLOT * 3):
        client.run_worker()
    assert _collected(session) == ["Toujours là ?"]
