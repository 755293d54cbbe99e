"""Administrators configure channels; moderators see and act on deliveries. Secrets never come
back out. Facebook is driven against its FAKE server (tests/announce/fake_networks.py)."""

import secrets

import pytest
from sqlmodel import Session, select

from app.announce.channels.base import AuthFailed
from app.announce.channels.webhook import WebhookChannel
from app.announce.models import ChannelAccount, ChannelState, Delivery, DeliveryStatus
from app.announce.sealing import unseal
from app.audit import AuditEntry
from app.settings import Settings
from tests.announce.fake_networks import FakeNetwork
from tests.announce.helpers import add_channel
from tests.announce.test_delivery import _publish
from tests.factories import make_call, make_user
from tests.support import WebClient


def _add_facebook(client: WebClient, session: Session, graph: FakeNetwork, token: str) -> ChannelAccount:
    response = client.submit("/admin/channels", {
        "kind": "facebook", "label": "Page de la Ville", "page_id": "1234567890", "language": "fr",
        "graph_url": graph.url, "page_access_token": token})
    assert response.status_code == 303, response.text
    channel_id = int(response.headers["location"].rsplit("/", 1)[1])
    channel = session.get(ChannelAccount, channel_id)
    assert channel is not None
    return channel


def test_an_administrator_adds_a_channel_whose_token_never_comes_back(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    client.login_as(make_user(session, role="admin"))
    page = client.get("/admin/channels")
    assert page.status_code == 200 and "Aucun canal" in page.text
    form = client.get("/admin/channels/new?kind=facebook")
    assert form.status_code == 200 and 'type="password"' in form.text
    channel = _add_facebook(client, session, graph, "page-token-secret")
    assert "page-token-secret" not in channel.secrets_sealed  # sealed at rest
    assert unseal(settings, channel.secrets_sealed) == {"page_access_token": "page-token-secret"}
    edit = client.get(f"/admin/channels/{channel.id}")
    assert "page-token-secret" not in edit.text and "Une valeur est enregistrée" in edit.text
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "channel_save")).all()
    assert len(entries) == 1 and "page-token-secret" not in str(entries[0].details)
    assert entries[0].details["changed"] == ["graph_url", "language", "page_access_token", "page_id"]

    # Trying the connection asks the network.
    checked = client.submit(f"/admin/channels/{channel.id}", {"action": "check"})
    assert checked.status_code == 200 and "La connexion fonctionne\u202f: Ville de Liège." in checked.text
    # Saving without retyping the token keeps it.
    saved = client.submit(f"/admin/channels/{channel.id}", {
        "action": "save", "label": "Facebook Ville", "page_id": "1234567890", "language": "nl",
        "graph_url": graph.url, "page_access_token": ""})
    assert saved.status_code == 303
    session.refresh(channel)
    assert channel.label == "Facebook Ville" and channel.config["language"] == "nl"
    assert unseal(settings, channel.secrets_sealed) == {"page_access_token": "page-token-secret"}


def test_bad_input_changes_nothing_and_says_why_in_the_users_language(
        client: WebClient, session: Session, graph: FakeNetwork) -> None:
    client.login_as(make_user(session, role="admin"))
    refused = client.submit("/admin/channels", {
        "kind": "facebook", "label": "", "page_id": "ma-page", "language": "xx",
        "graph_url": graph.url, "page_access_token": "t0ken-typed"})
    assert refused.status_code == 422
    assert "Donnez au canal un nom" in refused.text and "t0ken-typed" not in refused.text
    assert not session.exec(select(ChannelAccount)).all()
    wrong = client.submit("/admin/channels", {
        "kind": "facebook", "label": "Page", "page_id": "ma-page", "language": "fr",
        "graph_url": graph.url, "page_access_token": "t"})
    assert wrong.status_code == 422 and "Un identifiant de page" in wrong.text
    assert client.get("/admin/channels/new?kind=myspace").status_code == 404


def test_a_refused_token_shows_on_the_channel_and_new_credentials_send_what_waited(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    admin = make_user(session, role="admin")
    client.login_as(admin)
    channel = _add_facebook(client, session, graph, "revoked")
    checked = client.submit(f"/admin/channels/{channel.id}", {"action": "check"})
    assert "La connexion a échoué" in checked.text and "revoked" not in checked.text
    _publish(session, settings, make_call(session, phase="results"))
    client.run_worker()
    session.refresh(channel)
    assert channel.state == ChannelState.needs_reauth
    assert "a refusé ses identifiants" in client.get("/admin/channels").text
    assert "a refusé ses identifiants" in client.get("/admin").text  # the administrators' notice
    assert "a refusé ses identifiants" in client.get("/moderation/deliveries").text
    client.submit(f"/admin/channels/{channel.id}", {
        "action": "save", "label": "Page", "page_id": "1234567890", "language": "fr", "graph_url": graph.url,
        "page_access_token": graph.token})
    client.run_worker()
    assert len(graph.posts) == 1
    session.refresh(channel)
    assert channel.state == ChannelState.ok


def test_moderators_see_deliveries_and_retry_or_cancel_them(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    client.login_as(make_user(session, role="admin"))
    _add_facebook(client, session, graph, graph.token)
    moderator = make_user(session, role="moderator")
    client.login_as(moderator)
    assert client.get("/admin/channels").status_code == 403  # channels are for administrators
    call = make_call(session, phase="results")
    graph.faults.append((400, {}, b'{"error": {"code": 506}}'))  # refused for good
    first = _publish(session, settings, call)
    second = _publish(session, settings, call, event="free", texts={"fr": "Une autre nouvelle"})
    client.run_worker()
    page = client.get("/moderation/deliveries")
    assert page.status_code == 200 and "Échec" in page.text and "Graph API error 506" in page.text
    compose = client.get(f"/moderation/announcements/{second.id}")
    assert "voir la publication" in compose.text  # sent: the post's link
    rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
    assert [r.status for r in rows] == [DeliveryStatus.dead, DeliveryStatus.sent]
    assert client.submit(f"/moderation/deliveries/{rows[1].id}/retry").status_code == 409  # sent: nothing to retry
    assert client.submit(f"/moderation/deliveries/{rows[0].id}/retry").status_code == 303
    client.run_worker()
    session.refresh(rows[0])
    assert rows[0].status == DeliveryStatus.sent and len(graph.posts) == 2
    assert first.id is not None
    # A citizen sees none of it; without CSRF nothing happens.
    client.login_as(make_user(session))
    assert client.get("/moderation/deliveries").status_code == 403
    client.login_as(moderator)
    assert client.post(f"/moderation/deliveries/{rows[0].id}/cancel", follow_redirects=False).status_code == 403


def test_a_moderator_lists_only_the_deliveries_and_replies_of_the_calls_they_moderate(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    from app.announce.models import NetworkReply
    from app.clock import utcnow
    from app.moderation.models import ModeratorAssignment

    client.login_as(make_user(session, role="admin"))
    _add_facebook(client, session, graph, graph.token)
    mine, theirs = make_call(session, phase="results", title="Mon appel"), make_call(session, phase="results")
    me, other = make_user(session, role="moderator"), make_user(session, role="moderator")
    session.add(ModeratorAssignment(call_id=mine.id, user_id=me.id))
    session.add(ModeratorAssignment(call_id=theirs.id, user_id=other.id))
    session.commit()
    _publish(session, settings, mine, texts={"fr": "Annonce de mon appel"})
    _publish(session, settings, theirs, texts={"fr": "Annonce de l'autre appel"})
    client.run_worker()
    rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
    for row, handle in zip(rows, ("@ici@social.example", "@ailleurs@social.example"), strict=True):
        session.add(NetworkReply(delivery_id=row.id, channel_id=row.channel_id, remote_id=handle,
                                 author_handle=handle, text="Une réaction", posted_at=utcnow()))
    session.commit()
    client.login_as(me)
    listed = client.get("/moderation/deliveries").text
    assert f"/moderation/announcements/{rows[0].announcement_id}" in listed
    assert f"/moderation/announcements/{rows[1].announcement_id}" not in listed
    review = client.get("/moderation/replies").text
    assert "@ici@social.example" in review and "@ailleurs@social.example" not in review
    assert "Réponses venues des réseaux <span class=\"tab-count\">(1)</span>" in client.get("/moderation").text


def test_a_failed_connection_check_names_the_host_but_not_a_token_of_the_address(
        client: WebClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's answer is shown to the administrator: the network's refusal with the host and
    path it named, without the password or the token of the address."""
    secret = secrets.token_urlsafe(16)

    def check(_self: WebhookChannel) -> str:
        raise AuthFailed(f"HTTP 401 from https://city:{secret}@hooks.example.be/ping?key={secret}")

    monkeypatch.setattr(WebhookChannel, "check", check)
    channel = add_channel(session, settings)
    client.login_as(make_user(session, role="admin"))
    checked = client.submit(f"/admin/channels/{channel.id}", {"action": "check"})
    assert "La connexion a échoué" in checked.text and "hooks.example.be/ping" in checked.text
    assert secret not in checked.text
