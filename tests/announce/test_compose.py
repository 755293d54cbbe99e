"""The moderator's compose page, seen as a moderator, a citizen, a visitor and an attacker:
drafting, previews per channel, publishing, the results warning, and what the public sees."""

import feedparser
from sqlmodel import Session, select

from app.announce.models import Announcement, AnnouncementStatus
from app.audit import AuditEntry
from app.media import service as media_service
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.announce.helpers import add_channel, draft, moderator, send, token_in
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import png
from tests.support import WebClient

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"


def test_a_moderator_drafts_previews_and_publishes(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", title="Liège en fleurs", slug="fleurs")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    assert announcement.status == AnnouncementStatus.draft
    assert announcement.texts["fr"].startswith("Le vote est ouvert sur «\u202fLiège en fleurs\u202f»")
    assert announcement.link == "http://testserver/calls/fleurs"
    page = client.get(f"/moderation/announcements/{announcement.id}").text
    # The post as channels get it (text + link) and its counts: the link counts 23 on Mastodon and X.
    post = announcement.texts["fr"] + "\n\nhttp://testserver/calls/fleurs"
    assert f"Mastodon:\n          {len(announcement.texts['fr']) + 2 + 23} sur 500 caractères" in page
    assert f"Bluesky:\n          {len(post)} sur 300 graphèmes" in page

    # A preview of an edited text saves nothing and counts what was typed.
    preview = send(client, announcement, "preview", text_fr=f"Famille {FAMILY}", link="")
    assert preview.status_code == 200
    assert "Bluesky:\n          9 sur 300 graphèmes" in preview.text
    assert "X:\n          10 sur 280 caractères pondérés" in preview.text
    session.refresh(announcement)
    assert announcement.texts["fr"].startswith("Le vote est ouvert")

    too_long = send(client, announcement, "preview", text_fr="é" * 301)
    assert "de trop\u202f: raccourcissez le texte" in too_long.text

    response = send(client, announcement, "publish", text_fr="Votez pour vos idées préférées !")
    assert response.status_code == 303
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.published and announcement.published_at is not None
    assert announcement.texts["fr"] == "Votez pour vos idées préférées !"
    # No channel is configured: nothing is queued, and the compose page says so.
    assert not session.exec(select(OutboxMessage).where(OutboxMessage.kind == "announce.deliver")).all()
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "announce_publish",
                                                 AuditEntry.target_id == announcement.id)).one()

    # On the public pages: the list, its page, the call page.
    assert "Votez pour vos idées préférées !" in client.get("/announcements").text
    assert "Votez pour vos idées préférées !" in client.get(f"/announcements/{announcement.id}").text
    assert "Votez pour vos idées préférées !" in client.get("/calls/fleurs").text
    session.refresh(announcement)
    assert announcement.delivery_note == "no channel configured"


def test_a_citizen_is_refused_and_a_visitor_sent_to_log_in(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    mod = moderator(session)
    citizen = make_user(session)
    client.login_as(mod)
    announcement = draft(client, session, call, "voting_opens")
    client.cookies.clear()
    for url in ("/moderation/announcements", f"/moderation/announcements/{announcement.id}"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and "/login" in response.headers["location"]
    client.login_as(citizen)
    assert client.get("/moderation/announcements").status_code == 403
    assert client.get(f"/moderation/announcements/{announcement.id}").status_code == 403
    response = client.submit(f"/moderation/announcements/{announcement.id}",
                             {"text_fr": "Piraté", "action": "publish"})
    assert response.status_code == 403
    assert client.submit("/moderation/announcements", {"event": "free"}).status_code == 403
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.draft and announcement.texts["fr"] != "Piraté"
    # Drafts are not public.
    assert client.get(f"/announcements/{announcement.id}").status_code == 404


def test_without_csrf_nothing_happens_and_a_form_sent_twice_publishes_once(client: WebClient, session: Session,
                                                                           settings: Settings) -> None:
    add_channel(session, settings)
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    token = token_in(client.get(f"/moderation/announcements/{announcement.id}").text)
    data = {"text_fr": "Une annonce", "action": "publish", "form_token": token}
    refused = client.post(f"/moderation/announcements/{announcement.id}", data=data, follow_redirects=False)
    assert refused.status_code == 403
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.draft
    first = client.submit(f"/moderation/announcements/{announcement.id}", data)
    second = client.submit(f"/moderation/announcements/{announcement.id}", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "announce.deliver")).all()) == 1
    assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "announce_publish")).all()) == 1
    # The new-announcement form too: one draft for one token sent twice.
    token = token_in(client.get("/moderation/announcements").text)
    for _ in range(2):
        assert client.submit("/moderation/announcements", {"event": "free", "form_token": token}).status_code == 303
    assert len(session.exec(select(Announcement)).all()) == 2


def test_results_ask_for_confirmation_and_warn_of_unanswered_ideas(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="results")
    make_idea(session, call, title="Sans réponse")
    make_idea(session, call, title="Une autre sans réponse")
    answered = make_idea(session, call, title="Répondue")
    answered.answer_status = "accepted"
    session.add(answered)
    session.commit()
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "results_published")
    page = client.get(f"/moderation/announcements/{announcement.id}").text
    assert "2 idées de cet appel n’ont pas encore de réponse officielle." in page
    refused = send(client, announcement, "publish")
    assert refused.status_code == 422
    assert "Cochez la case pour confirmer la publication des résultats." in refused.text
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.draft
    assert session.exec(select(OutboxMessage).where(OutboxMessage.kind == "announce")).first() is None
    assert send(client, announcement, "publish", confirm_results="1").status_code == 303
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.published


def test_bad_input_is_refused_with_a_message_and_changes_nothing(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    before = dict(announcement.texts)
    response = send(client, announcement, "publish", text_fr="Texte", link="javascript:alert(1)")
    assert response.status_code == 422
    assert "Indiquez une adresse web complète" in response.text
    empty = send(client, announcement, "save", text_fr="", text_en="", text_nl="", text_de="")
    assert empty.status_code == 422 and "Rédigez l’annonce dans au moins une langue." in empty.text
    past = send(client, announcement, "schedule", scheduled_at="2020-01-01T10:00")
    assert past.status_code == 422 and "Indiquez une date et une heure à venir." in past.text
    garbage = send(client, announcement, "schedule", scheduled_at="demain")
    assert garbage.status_code == 422
    session.refresh(announcement)
    assert announcement.texts == before and announcement.status == AnnouncementStatus.draft
    # An event turned off for the call cannot be drafted.
    client.submit(f"/moderation/calls/{call.id}/announced-events", {"event": ["call_opens"]})
    token = token_in(client.get("/moderation/announcements").text)
    off = client.submit("/moderation/announcements", {"event": "voting_opens", "call_id": str(call.id),
                                                      "form_token": token})
    assert off.status_code == 422 and "Cet événement n’est pas annoncé pour cet appel." in off.text


def test_text_is_escaped_everywhere(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", slug="xss")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "free")
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert send(client, announcement, "publish", text_fr=attack).status_code == 303
    for url in ("/announcements", f"/announcements/{announcement.id}", "/calls/xss",
                f"/moderation/announcements/{announcement.id}"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url
    feed = client.get("/announcements/feed.atom")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert "&lt;script&gt;" in parsed.entries[0].content[0].value


def test_the_feed_lists_exactly_the_published_announcements(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    published = []
    for text in ("Première annonce", "Deuxième annonce"):
        announcement = draft(client, session, call, "free")
        assert send(client, announcement, "publish", text_fr=text).status_code == 303
        published.append(announcement)
    kept = draft(client, session, call, "free")
    assert send(client, kept, "save", text_fr="Un brouillon").status_code == 303
    cancelled = draft(client, session, call, "free")
    assert client.submit(f"/moderation/announcements/{cancelled.id}/cancel").status_code == 303
    client.cookies.clear()
    response = client.get("/announcements/feed.atom")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.language == "fr"
    assert [e.link for e in parsed.entries] == [f"http://testserver/announcements/{a.id}" for a in reversed(published)]
    assert [e.title for e in parsed.entries] == ["Deuxième annonce", "Première annonce"]
    assert "Un brouillon" not in response.text
    # In English, the text in English where there is one, else the French.
    english = feedparser.parse(client.get("/announcements/feed.atom?lang=en").content)
    assert english.feed.language == "en"
    assert client.get(f"/announcements/{kept.id}").status_code == 404
    assert client.get(f"/announcements/{cancelled.id}").status_code == 404


def test_an_announcement_about_a_draft_call_waits_until_the_call_is_public(client: WebClient,
                                                                           session: Session) -> None:
    call = make_call(session, phase="draft", slug="brouillon")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "call_opens")
    refused = send(client, announcement, "publish")
    assert refused.status_code == 422 and "Cet appel n’est pas encore public" in refused.text
    session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.draft
    # Published anyway (scheduled for the opening, say), it stays out of sight while the call is a draft.
    announcement.status = AnnouncementStatus.published
    announcement.published_at = announcement.created_at
    session.add(announcement)
    session.commit()
    client.cookies.clear()
    assert client.get(f"/announcements/{announcement.id}").status_code == 404
    assert not feedparser.parse(client.get("/announcements/feed.atom").content).entries


def test_events_of_a_call_can_be_turned_off_and_on(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    page = client.get(f"/moderation/calls/{call.id}/announced-events").text
    assert page.count(" checked") == 5  # every event of a call, by default
    response = client.submit(f"/moderation/calls/{call.id}/announced-events",
                             {"event": ["call_opens", "results_published", "nonsense"]})
    assert response.status_code == 303
    page = client.get(f"/moderation/calls/{call.id}/announced-events").text
    assert 'value="call_opens" checked' in page and 'value="voting_opens">' in page
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "announce_settings")).one()
    assert entry.details == {"disabled": ["idea_answered", "voting_closes_soon", "voting_opens"]}


def test_an_official_answer_is_announced_from_the_idea_page(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", title="Parc")
    idea = make_idea(session, call, title="Des bancs")
    idea.answer_status = "accepted"
    session.add(idea)
    session.commit()
    client.login_as(moderator(session))
    page = client.get(f"/moderation/ideas/{idea.id}").text
    assert "Annoncer cette réponse" in page
    announcement = draft(client, session, call, "idea_answered", idea_id=str(idea.id))
    assert announcement.idea_id == idea.id
    assert announcement.texts["fr"] == \
        "L’idée «\u202fDes bancs\u202f» de l’appel «\u202fParc\u202f» a reçu une réponse officielle de la Ville."
    assert announcement.link == f"http://testserver/ideas/{idea.id}#answer"
    # An idea with no answer cannot be announced as answered.
    other = make_idea(session, call, title="Sans réponse")
    session.commit()
    token = token_in(client.get("/moderation/announcements").text)
    refused = client.submit("/moderation/announcements", {"event": "idea_answered", "call_id": str(call.id),
                                                          "idea_id": str(other.id), "form_token": token})
    assert refused.status_code == 422 and "Indiquez le numéro d’une idée publique" in refused.text


def test_the_call_cover_is_attached_only_with_a_description(client: WebClient, session: Session,
                                                            settings: Settings) -> None:
    call = make_call(session, phase="voting", slug="couverture")
    cover = media_service.store_image(session, settings, data=png(900, 600, (30, 120, 30)), owner_id=None)
    call.cover_id = cover.id
    session.add(call)
    session.commit()
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    assert announcement.image_id == cover.id  # offered by default, to be described
    refused = send(client, announcement, "publish", attach_image="1", image_alt=" ")
    assert refused.status_code == 422
    assert "Décrivez l’image pour les personnes qui ne peuvent pas la voir." in refused.text
    preview = send(client, announcement, "preview", attach_image="1", image_alt="Un parc en été")
    assert 'alt="Un parc en été"' in preview.text
    assert send(client, announcement, "publish", attach_image="1", image_alt="Un parc en été").status_code == 303
    session.refresh(announcement)
    assert (announcement.image_id, announcement.image_alt) == (cover.id, "Un parc en été")
    # Without the box ticked, no image and no description are kept.
    other = draft(client, session, call, "voting_opens")
    assert send(client, other, "publish", image_alt="Oublié").status_code == 303
    session.refresh(other)
    assert (other.image_id, other.image_alt) == (None, "")


def test_translations_are_flagged_when_the_original_changes_after_them(client: WebClient, session: Session) -> None:
    """Content in every language (issue 18): an announcement has an original language; a
    translation the moderator left as it was while changing the original is out of date."""
    call = make_call(session, phase="voting")
    client.login_as(moderator(session))
    announcement = draft(client, session, call, "voting_opens")
    page = client.get(f"/moderation/announcements/{announcement.id}").text
    assert "Pas à jour" not in page  # drafted together: every language up to date
    assert send(client, announcement, "save", text_fr="Le vote est ouvert : choisissez vos idées préférées."
                ).status_code == 303
    page = client.get(f"/moderation/announcements/{announcement.id}").text
    assert page.count("l’original a changé après cette traduction") == 3  # en, nl, de
    session.refresh(announcement)
    dutch = "De stemming is open: kies uw favoriete ideeën."
    assert send(client, announcement, "save", text_nl=dutch).status_code == 303
    page = client.get(f"/moderation/announcements/{announcement.id}").text
    assert page.count("l’original a changé après cette traduction") == 2  # Dutch rewritten
    assert 'id="f-text_nl-hint"' not in page and 'id="f-text_en-hint"' in page  # only the others flagged

    # Written in Dutch alone: its original is Dutch, and a German reader is shown it, marked.
    session.refresh(announcement)
    refused = send(client, announcement, "save", text_fr="", text_en="", text_de="",
                   text_nl="Alleen in het Nederlands.")
    assert refused.status_code == 422 and "Écrivez le texte dans sa langue originale" in refused.text
    done = send(client, announcement, "publish", original_language="nl", text_fr="", text_en="", text_de="",
                text_nl="Alleen in het Nederlands.")
    assert done.status_code == 303
    shown = client.get(f"/announcements/{announcement.id}", headers={"Accept-Language": "de"}).text
    assert "Alleen in het Nederlands." in shown and "Original auf Niederländisch" in shown
    assert 'lang="nl"' in shown
