"""Channels in a real browser: an administrator adds the city's Mastodon account (a real
Mastodon API server, mastodon-mock) and tries its connection; a moderator publishes results,
sees where they go before confirming, and follows the delivery until the post's link; the
replies page for moderators and an announcement's reactions. Each page checked (axe, phone
layout, HTML validity) and photographed."""

import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.announce.models import ChannelAccount, Delivery, NetworkReply, ReplyStatus
from app.clock import utcnow
from tests.announce.channels.mastodon_server import MastodonServer, mastodon_server, mastodon_server_process
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e
__all__ = ["mastodon_server", "mastodon_server_process"]


def test_the_city_publishes_its_results_on_mastodon_and_follows_the_delivery(
        server: E2EServer, context: BrowserContext, page: Page, mastodon_server: MastodonServer) -> None:
    admin = server.create_user(role="admin", display_name="Anne Administratrice")
    with server.session() as s:
        call = make_call(s, phase="results", title="Parc de la Boverie")
        make_idea(s, call, status="published", title="Des bancs à l'ombre", answer_status="accepted",
                  answer_html="<p>Oui.</p>")
        s.commit()
        call_id = call.id
    login_as(context, server, admin)

    page.goto("/admin")
    page.get_by_role("link", name="Canaux").click()
    check_page(page, "channels-empty")
    page.get_by_role("main").get_by_role("link", name="Mastodon", exact=True).click()
    page.get_by_label("Nom affiché à l’équipe").fill("Mastodon de la Ville")
    page.get_by_label("Adresse du serveur").fill(mastodon_server.base_url)
    page.get_by_label("Jeton d’accès").fill(mastodon_server.city_token)
    check_page(page, "channel-new")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".flash-success")).to_contain_text("Le canal est enregistré.")
    page.get_by_role("button", name="Essayer la connexion").click()
    expect(page.get_by_text("La connexion fonctionne\u202f: @ville.")).to_be_visible()
    assert mastodon_server.city_token not in page.content()
    check_page(page, "channel-edit")

    page.goto(f"/moderation/calls/{call_id}/review")
    page.get_by_role("button", name="Annoncer les résultats").click()
    expect(page.get_by_text("La publication l’envoie, une fois, à\u202f:")).to_contain_text("Mastodon de la Ville")
    page.get_by_label("Je confirme que ces résultats sont définitifs et peuvent être annoncés.").check()
    page.get_by_role("button", name="Publier maintenant").click()
    expect(page.locator(".flash-success")).to_have_text("L’annonce est publiée.")

    deadline = time.monotonic() + 30
    while not mastodon_server.statuses():  # the worker process delivers it
        server.check_alive()
        assert time.monotonic() < deadline, "the worker never posted to Mastodon"
        time.sleep(0.2)
    page.reload()
    expect(page.get_by_role("link", name="voir la publication")).to_be_visible()
    check_page(page, "announce-compose-delivered")
    page.goto("/moderation/deliveries")
    expect(page.locator(".delivery-sent").filter(has_text="Mastodon de la Ville")).to_contain_text("Envoyé")
    check_page(page, "deliveries")
    assert len(mastodon_server.statuses()) == 1

    # A reply came back (collected every ten minutes by the worker; arranged here at once).
    with server.session() as s:
        sent = s.exec(select(Delivery).join(ChannelAccount, ChannelAccount.id == Delivery.channel_id)  # type: ignore[arg-type]
                      .where(ChannelAccount.kind == "mastodon")).one()
        s.add(NetworkReply(delivery_id=sent.id, channel_id=sent.channel_id, remote_id="9001",
                           author_handle="@citoyenne@social.example", url="https://social.example/@citoyenne/9001",
                           author_url="https://social.example/@citoyenne",
                           text="Merci ! Et le parc du quartier Nord ?", posted_at=utcnow()))
        s.commit()
        announcement_id = sent.announcement_id
    page.goto("/moderation/replies")
    check_page(page, "replies-review")
    page.get_by_role("button", name="L’afficher").click()
    expect(page.locator(".flash-success")).to_have_text("La réponse est affichée.")
    with server.session() as s:
        assert s.exec(select(NetworkReply).where(NetworkReply.remote_id == "9001")).one().status == ReplyStatus.approved
    page.goto(f"/announcements/{announcement_id}")
    expect(page.get_by_text("Merci ! Et le parc du quartier Nord ?")).to_be_visible()
    check_page(page, "announce-detail-reactions")
