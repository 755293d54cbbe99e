"""What a fresh pair of eyes found by trying issue 11's features as an attacker or an unlucky
city would: each test says what the person or the network should see.

Facebook cannot run here: its channel is driven against the FAKE Graph API server of
tests/announce/fake_networks.py.
"""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from app import clock
from app.announce import channel_accounts, delivery, replies, service
from app.announce.channels import registry
from app.announce.channels.base import Reply
from app.announce.models import Announcement, ChannelAccount, Delivery, DeliveryStatus, NetworkReply, ReplyStatus
from app.call.models import Call
from app.db import Database
from app.moderation import idea_decisions
from app.moderation.models import ModeratorAssignment
from app.newsletter.models import NewsletterSubscription
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.announce.fake_networks import FakeNetwork
from tests.announce.helpers import add_channel
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, exported_data


def _facebook(session: Session, settings: Settings, graph: FakeNetwork) -> ChannelAccount:
    return add_channel(session, settings, "facebook", "Page de la Ville",
                       config={"page_id": "1234567890", "language": "fr", "graph_url": graph.url},
                       secrets={"page_access_token": graph.token})


def _publish(session: Session, settings: Settings, call: Call) -> Announcement:
    mod = make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="results_published",
                                texts={"fr": "Les résultats sont publiés !"},
                                link=settings.absolute_url(f"/calls/{call.slug}"), author_id=mod.id)
    session.add(announcement)
    session.commit()
    service.publish(session, actor=mod, announcement=announcement, confirmed=True)
    session.commit()
    return announcement


def _deliveries(session: Session) -> list[Delivery]:
    session.expire_all()
    return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


# -- a staff retry after a post that reached the network -------------------------------------


def test_a_staff_retry_after_a_post_the_network_took_finds_it_instead_of_posting_again(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    """The network took the post, the answer was lost; a moderator, seeing "waiting", cancels
    it, thinks again and presses "Try again": the page must still be posted once."""
    _facebook(session, settings, graph)
    _publish(session, settings, make_call(session, phase="results"))
    graph.drop_after_work = 1  # posted, then the connection drops before the answer
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "pending" and len(graph.posts) == 1
    staff = make_user(session, role="moderator")
    delivery.cancel(session, actor=staff, delivery=row)
    session.commit()
    delivery.retry(session, actor=staff, delivery=row)
    session.commit()
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "sent" and row.remote_id == graph.posts[0]["id"]
    assert len(graph.posts) == 1


def test_a_staff_retry_of_a_dead_delivery_whose_last_attempt_reached_the_network_posts_nothing_more(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 1)  # the first attempt is the last
    _facebook(session, settings, graph)
    _publish(session, settings, make_call(session, phase="results"))
    graph.drop_after_work = 1  # the last attempt is taken, its answer lost
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == DeliveryStatus.dead and len(graph.posts) == 1
    delivery.retry(session, actor=make_user(session, role="admin"), delivery=row)
    session.commit()
    client.run_worker()
    [row] = _deliveries(session)
    assert row.status == "sent" and len(graph.posts) == 1


# -- the outbox lease of a batch -------------------------------------------------------------


def test_a_message_whose_lease_ran_out_while_its_batch_was_busy_runs_once(db: Database) -> None:
    """A worker claims a batch; the first message is slow (network timeouts added up), the
    lease of the others runs out and a second worker takes them up. The first worker must not
    carry them out again when it gets to them."""
    runs: list[str] = []

    def second_worker(_id: int, payload: dict[str, Any]) -> None:
        runs.append("B:" + payload["name"])

    def first_worker(_id: int, payload: dict[str, Any]) -> None:
        runs.append("A:" + payload["name"])
        if payload["name"] == "slow":
            # Meanwhile, past the lease, the second worker claims what is due.
            with clock.travel(timedelta(seconds=outbox.CLAIM_SECONDS + 1)):
                outbox.run_pending(db, {"review.test": second_worker})

    with db.transaction() as session:
        outbox.enqueue(session, "review.test", {"name": "slow"})
        outbox.enqueue(session, "review.test", {"name": "next"})
    outbox.run_pending(db, {"review.test": first_worker})
    assert [r for r in runs if r.endswith("next")] == ["B:next"]  # once, by the second worker
    with db.session() as session:
        assert {m.status for m in session.exec(select(OutboxMessage)).all()} == {"done"}


# -- what networks send back is shown safely ---------------------------------------------------


def _sent_post(session: Session, settings: Settings, call: Call) -> tuple[Announcement, Delivery]:
    channel = add_channel(session, settings, "mastodon", "Mastodon de la Ville",
                          config={"instance_url": "https://mastodon.example", "visibility": "public",
                                  "language": "fr"}, secrets={"access_token": "t0ken"})
    announcement = _publish(session, settings, call)
    row = session.exec(select(Delivery).where(Delivery.channel_id == channel.id)).one()
    row.status, row.remote_id, row.sent_at = DeliveryStatus.sent, "1001", clock.utcnow()
    session.add(row)
    session.commit()
    return announcement, row


def test_a_hostile_servers_javascript_addresses_never_become_links(
        client: WebClient, session: Session, settings: Settings) -> None:
    announcement, row = _sent_post(session, settings, make_call(session, phase="results"))
    hostile = Reply(remote_id="1002", parent_id="1001", text="Bravo <script>alert(1)</script>",
                    author_handle="@eve@evil.example", author_url="javascript:alert(document.cookie)",
                    url=" JavaScript:alert(1)", created_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert replies._keep(session, row.channel_id, row.id or 0, [hostile]) == 1
    reply = session.exec(select(NetworkReply)).one()
    replies.approve(session, actor=make_user(session, role="moderator"), reply=reply)
    session.commit()
    page = client.get(f"/announcements/{announcement.id}")
    assert page.status_code == 200 and "@eve@evil.example" in page.text
    assert "&lt;script&gt;" in page.text
    assert "javascript:" not in page.text.lower()


# -- moderators act on the calls they moderate --------------------------------------------------


def _assigned_call(session: Session) -> Call:
    call = make_call(session, phase="results")
    session.add(ModeratorAssignment(call_id=call.id, user_id=make_user(session, role="moderator").id))
    session.commit()
    return call


def test_a_moderator_not_assigned_to_the_call_cannot_cancel_or_retry_its_deliveries(
        client: WebClient, session: Session, settings: Settings) -> None:
    add_channel(session, settings)
    _publish(session, settings, _assigned_call(session))
    [row] = _deliveries(session)
    client.login_as(make_user(session, role="moderator"))  # another call's moderator
    assert client.submit(f"/moderation/deliveries/{row.id}/cancel").status_code == 403
    assert _deliveries(session)[0].status == "pending"


def test_a_moderator_not_assigned_to_the_call_cannot_answer_or_hide_replies_to_its_posts(
        client: WebClient, session: Session, settings: Settings) -> None:
    _announcement, row = _sent_post(session, settings, _assigned_call(session))
    replies._keep(session, row.channel_id, row.id or 0, [Reply(
        remote_id="1002", parent_id="1001", text="Et le parc ?", author_handle="@ana@mastodon.example",
        author_url="https://mastodon.example/@ana", url="https://mastodon.example/@ana/1002",
        created_at=datetime(2026, 11, 1, tzinfo=UTC))])
    session.commit()
    reply = session.exec(select(NetworkReply)).one()
    client.login_as(make_user(session, role="moderator"))
    answered = client.submit(f"/moderation/replies/{reply.id}/answer", {"answer": "Nous y travaillons."})
    assert answered.status_code == 403
    assert client.submit(f"/moderation/replies/{reply.id}/hide").status_code == 403
    session.expire_all()
    reply = session.exec(select(NetworkReply)).one()
    assert reply.status == ReplyStatus.pending and reply.answer_text == ""
    assert len(_deliveries(session)) == 1


# -- an idea hidden while its announcement is on its way ----------------------------------------


def test_an_idea_hidden_while_its_announcement_is_being_posted_gets_the_post_deleted(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    """One worker is posting (the network took the post and is slow to answer); another
    carries out the hiding of the idea meanwhile. The post must not stay on the page."""
    _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    idea = make_idea(session, call, answer_status="accepted")
    mod = make_user(session, role="moderator")
    mod_id = mod.id
    announcement = Announcement(call_id=call.id, idea_id=idea.id, event="idea_answered",
                                texts={"fr": "Une idée a reçu sa réponse."}, author_id=mod_id)
    session.add(announcement)
    session.commit()
    service.publish(session, actor=mod, announcement=announcement)
    session.commit()
    graph.delay = 1.5
    first = threading.Thread(target=client.run_worker)
    first.start()
    deadline = time.monotonic() + 10
    while not graph.posts and time.monotonic() < deadline:
        time.sleep(0.02)
    assert graph.posts  # taken by the network, not answered yet
    idea_decisions.hide_idea(session, actor=mod, idea=idea, reason="Propos injurieux", settings=settings)
    session.commit()
    client.run_worker()  # the second worker: the hiding follows
    first.join()
    graph.delay = 0
    client.run_worker()
    assert not graph.posts
    assert _deliveries(session)[0].status == DeliveryStatus.deleted


# -- the newsletter of an address one does not own --------------------------------------------------


def test_an_account_with_someone_elses_unconfirmed_address_neither_sees_nor_stops_their_subscription(
        client: WebClient, session: Session, settings: Settings) -> None:
    """Anyone can open an account with another person's address (it stays unconfirmed): that
    account must not learn that the address receives the newsletter, nor unsubscribe it."""
    victim = NewsletterSubscription(email="voisine@example.org", language="nl", status="confirmed",
                                    confirmed_at=clock.utcnow())
    session.add(victim)
    session.commit()
    client.login_as(make_user(session, email="voisine@example.org", verified=False))
    page = client.get("/newsletter")
    assert page.status_code == 200 and 'id="mine-title"' not in page.text  # no "Your subscription"
    client.submit("/newsletter/mine", {"action": "unsubscribe"})
    client.submit("/newsletter/mine", {"language": "de"})
    session.expire_all()
    victim = session.exec(select(NewsletterSubscription)).one()
    assert (victim.status, victim.language) == ("confirmed", "nl")


def test_an_account_with_someone_elses_unconfirmed_address_neither_exports_nor_erases_their_subscription(
        client: WebClient, session: Session, settings: Settings) -> None:
    session.add(NewsletterSubscription(email="voisine@example.org", language="nl", status="confirmed",
                                       confirmed_at=clock.utcnow()))
    session.commit()
    client.login_as(make_user(session, email="voisine@example.org", verified=False, password="mot-de-passe-42"))
    exported = client.submit("/account/export")
    text = json.dumps(exported_data(exported.content), ensure_ascii=False)
    assert exported.status_code == 200 and "voisine@example.org" not in text.replace(
        '"email": "voisine@example.org"', "", 1)  # the account's own address, once
    assert "confirmed" not in text
    assert client.submit("/account/delete", {"password": "mot-de-passe-42"}).status_code == 303
    session.expire_all()
    victim = session.exec(select(NewsletterSubscription)).one()
    assert victim.status == "confirmed"


# -- an announcement scheduled about a call that is not open yet ---------------------------------


def test_an_announcement_due_before_its_call_opens_goes_out_when_the_call_opens(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    """The compose page says: schedule it for when the call opens. The moderator does; then
    the opening is postponed by a day. At the scheduled time the call is still a draft: the
    announcement must wait for it, not be published with its posts cancelled for good."""
    _facebook(session, settings, graph)
    call = make_call(session, phase="draft")  # opens for ideas in a day
    mod = make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="free", texts={"fr": "Un nouvel appel s'ouvre !"},
                                author_id=mod.id)
    session.add(announcement)
    session.commit()
    service.schedule(session, actor=mod, announcement=announcement, at=clock.utcnow() + timedelta(hours=25))
    call.submissions_start = clock.utcnow() + timedelta(days=2)  # postponed
    session.add(call)
    session.commit()
    with clock.travel(timedelta(hours=26)):
        client.run_worker()
    assert not graph.posts and client.get(f"/announcements/{announcement.id}").status_code == 404
    assert all(d.status != DeliveryStatus.cancelled for d in _deliveries(session))
    with clock.travel(timedelta(days=2, hours=1)):
        client.run_worker()
        assert client.get(f"/announcements/{announcement.id}").status_code == 200
    assert len(graph.posts) == 1


# -- what the worker decides before posting is kept ----------------------------------------------


def test_an_announcement_published_while_its_channel_waits_for_credentials_goes_out_once_they_are_saved(
        client: WebClient, session: Session, settings: Settings, graph: FakeNetwork) -> None:
    channel = _facebook(session, settings, graph)
    call = make_call(session, phase="results")
    graph.faults.append((401, {}, b'{"error": {"message": "Invalid OAuth access token", "code": 190}}'))
    _publish(session, settings, call)
    client.run_worker()
    assert [d.status for d in _deliveries(session)] == ["waiting_auth"]
    _publish(session, settings, call)  # published while the channel waits
    client.run_worker()
    assert [d.status for d in _deliveries(session)] == ["waiting_auth", "waiting_auth"]
    session.expire_all()
    channel = session.get(ChannelAccount, channel.id)
    channel_accounts.save(session, settings, actor=make_user(session, role="admin"), channel=channel,
                          kind_key="facebook", label=channel.label,
                          values={**channel.config, "page_access_token": graph.token})
    session.commit()
    client.run_worker()
    assert [d.status for d in _deliveries(session)] == ["sent", "sent"] and len(graph.posts) == 2


# -- what held up, kept as regression tests ----------------------------------------------------------


def test_staff_pages_refuse_citizens_and_channel_pages_refuse_moderators(
        client: WebClient, session: Session, settings: Settings) -> None:
    channel = add_channel(session, settings)
    _publish(session, settings, make_call(session, phase="results"))
    [row] = _deliveries(session)
    client.login_as(make_user(session))
    for url in ("/moderation/deliveries", "/moderation/replies", "/admin/channels", f"/admin/channels/{channel.id}"):
        assert client.get(url).status_code == 403, url
    assert client.submit(f"/moderation/deliveries/{row.id}/cancel").status_code == 403
    client.login_as(make_user(session, role="moderator"))
    assert client.get("/admin/channels").status_code == 403
    assert client.submit(f"/admin/channels/{channel.id}", {"action": "disable"}).status_code == 403
    page = client.get("/moderation/deliveries")
    assert page.status_code == 200 and "whsec_" not in page.text
    # A form posted from another site (no CSRF token) changes nothing.
    assert client.post(f"/moderation/deliveries/{row.id}/cancel").status_code == 403
    assert _deliveries(session)[0].status == "pending"


def test_reports_of_replies_need_a_confirmed_account_and_a_reply_that_is_shown(
        client: WebClient, session: Session, settings: Settings) -> None:
    announcement, row = _sent_post(session, settings, make_call(session, phase="results"))
    replies._keep(session, row.channel_id, row.id or 0, [Reply(
        remote_id=str(n), parent_id="1001", text=f"Réponse {n}", author_handle="@ana@mastodon.example",
        author_url="https://mastodon.example/@ana", url=f"https://mastodon.example/@ana/{n}",
        created_at=datetime(2026, 11, 1, tzinfo=UTC)) for n in (2001, 2002)])
    shown, hidden = session.exec(select(NetworkReply).order_by(NetworkReply.id)).all()  # type: ignore[arg-type]
    mod = make_user(session, role="moderator")
    replies.approve(session, actor=mod, reply=shown)
    replies.hide(session, actor=mod, reply=hidden)
    session.commit()
    client.login_as(make_user(session, verified=False))
    assert client.submit(f"/announcements/{announcement.id}/replies/{shown.id}/report").status_code == 403
    client.login_as(make_user(session))
    assert client.submit(f"/announcements/{announcement.id}/replies/{hidden.id}/report").status_code == 404
    assert client.submit(f"/announcements/{announcement.id + 1}/replies/{shown.id}/report").status_code == 404
    session.expire_all()
    assert [r.reports for r in session.exec(select(NetworkReply).order_by(NetworkReply.id)).all()] == [0, 0]  # type: ignore[arg-type]


def test_answering_a_hidden_reply_is_refused_and_does_not_show_it_again(
        client: WebClient, session: Session, settings: Settings) -> None:
    announcement, row = _sent_post(session, settings, make_call(session, phase="results"))
    replies._keep(session, row.channel_id, row.id or 0, [Reply(
        remote_id="3001", parent_id="1001", text="Insultes", author_handle="@troll@mastodon.example",
        author_url="https://mastodon.example/@troll", url="https://mastodon.example/@troll/3001",
        created_at=datetime(2026, 11, 1, tzinfo=UTC))])
    reply = session.exec(select(NetworkReply)).one()
    mod = make_user(session, role="moderator")
    replies.hide(session, actor=mod, reply=reply)
    session.commit()
    client.login_as(mod)
    assert client.submit(f"/moderation/replies/{reply.id}/answer", {"answer": "Merci."}).status_code == 409
    session.expire_all()
    assert session.exec(select(NetworkReply)).one().status == ReplyStatus.hidden
    assert len(_deliveries(session)) == 1 and "Insultes" not in client.get(f"/announcements/{announcement.id}").text


@pytest.mark.parametrize("kind,field", [("facebook", "graph_url"), ("x", "api_url")])
@pytest.mark.parametrize("address", ["http://localhost.evil.example", "http://127.0.0.1.nip.io:8080",
                                     "http://localhost@evil.example/"])
def test_a_plain_http_api_address_is_only_accepted_for_this_machine(kind: str, field: str, address: str) -> None:
    """The token travels in a header to this address: in clear only to this very machine."""
    config = {"page_id": "1234567890", "language": "fr", field: address}
    assert field in registry.validate(registry.kind_of(kind), config, {"page_access_token": "t", "access_token": "t"})
