"""The assistant answers mentions of the city's Mastodon account under them, once, with the
mention's visibility, in its language, through the delivery queue; what it cannot answer goes
to the moderators and their answer comes back under the mention. Against a real Mastodon API
server (mastodon-mock) and the real worker's handlers."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from app import clock
from app.account.models import Role
from app.announce.channels.mastodon import MastodonChannel
from app.announce.channels.status_html import html_to_text
from app.announce.models import ChannelAccount, Delivery, DeliveryStatus
from app.assistant import mentions, privacy
from app.assistant.models import AssistantQuestion, Outcome
from app.audit import AuditEntry
from app.clock import utcnow
from app.settings import Settings
from tests.announce.channels.mastodon_server import CITY, MastodonServer
from tests.announce.helpers import add_channel
from tests.factories import make_call, make_user
from tests.support import WebClient

LATER = timedelta(minutes=11)  # past the claim of a message a stopped worker held (5 minutes)


def _channel(session: Session, settings: Settings, server: MastodonServer) -> ChannelAccount:
    return add_channel(session, settings, "mastodon", "Mastodon de la Ville", config=server.config(),
                       secrets=server.secrets())


def _read_mentions(client: WebClient) -> None:
    """Queue a reading of the mentions now, as the worker's periodic job does, and run the worker."""
    with client.db.transaction() as session:
        mentions.schedule(session, utcnow())
    client.run_worker()


def _answers(server: MastodonServer, mention: dict[str, Any]) -> list[dict[str, Any]]:
    """The city's statuses under `mention`, as the city's own client reads them (a direct one
    shows only to the accounts it names)."""
    found = [s for s in server.statuses(CITY, token=server.city_token) if s["in_reply_to_id"] == mention["id"]]
    return [{**s, "text": html_to_text(s["content"])} for s in found]


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_a_mention_gets_exactly_one_answer_under_it_with_its_visibility(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer,
        visibility: str) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting", title="Liège en vert")
    mention = mastodon_server.mention("@ville quand se termine le vote ?", visibility=visibility, language="fr")
    _read_mentions(client)
    [answer] = _answers(mastodon_server, mention)
    assert answer["visibility"] == visibility
    assert answer["text"].startswith("@citoyenne@social.example ")
    assert "Liège en vert" in answer["text"] and "se termine le" in answer["text"]
    assert "http://testserver/calls/" in answer["text"]  # the source: the call's page
    session.expire_all()
    question = session.exec(select(AssistantQuestion)).one()
    assert question.text == "quand se termine le vote ?" and question.user_id is None
    assert question.remote_handle == "@citoyenne@social.example" and question.outcome == Outcome.answered
    with clock.travel(LATER):  # the next readings find nothing new
        _read_mentions(client)
    assert len(_answers(mastodon_server, mention)) == 1
    delivery = session.exec(select(Delivery)).one()
    assert delivery.status == DeliveryStatus.sent and delivery.remote_id == answer["id"]
    assert delivery.announcement_id is None and delivery.question_id == question.id


class Killed(BaseException):
    """Stands for the worker process dying: not an Exception, so nothing in the worker catches it."""


def test_a_worker_stopped_between_posting_and_recording_never_answers_twice(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting", title="Parcs")
    mention = mastodon_server.mention("@ville quand se termine le vote ?", language="fr")
    posted = MastodonChannel.post

    def post_then_die(self: MastodonChannel, *args: Any, **kwargs: Any) -> Any:
        posted(self, *args, **kwargs)  # the server takes the answer...
        raise Killed  # ...and the worker dies before it records it

    monkeypatch.setattr(MastodonChannel, "post", post_then_die)
    with pytest.raises(Killed):
        _read_mentions(client)
    assert len(_answers(mastodon_server, mention)) == 1
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    assert delivery.status == DeliveryStatus.pending and delivery.attempts == 1  # counted before posting

    monkeypatch.setattr(MastodonChannel, "post", posted)  # a new worker, once the claim expired
    with clock.travel(LATER):
        client.run_worker()
    [answer] = _answers(mastodon_server, mention)  # Mastodon knew the key: the same status
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    assert delivery.status == DeliveryStatus.sent and delivery.remote_id == answer["id"] and delivery.attempts == 2
    assert len(session.exec(select(AssistantQuestion)).all()) == 1


def test_a_server_error_while_answering_is_retried_with_the_same_key(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting")
    mention = mastodon_server.mention("@ville quand se termine le vote ?", language="fr")
    mastodon_server.fail_next("/api/v1/statuses", [502])
    _read_mentions(client)
    assert _answers(mastodon_server, mention) == []
    with clock.travel(LATER):
        client.run_worker()
    assert len(_answers(mastodon_server, mention)) == 1


def test_a_mention_in_another_language_is_answered_in_that_language(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting", title="Groen Luik")
    dutch = mastodon_server.mention("@ville wanneer eindigt de stemming?", language="nl")
    undeclared = mastodon_server.mention("@ville Bis wann kann man für die Projekte abstimmen, bitte?")
    _read_mentions(client)
    [answer] = _answers(mastodon_server, dutch)
    assert "De stemming voor “Groen Luik” eindigt op" in answer["text"]
    [german] = _answers(mastodon_server, undeclared)  # no language declared: detected
    assert "Die Abstimmung" in german["text"] or "Phasen" in german["text"], german["text"]
    assert answer["language"] == "nl"


def test_personal_questions_are_not_answered_for_a_stranger(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting", votes_per_citizen=7)
    mention = mastodon_server.mention("@ville il me reste combien de votes ?", language="fr")
    _read_mentions(client)
    [answer] = _answers(mastodon_server, mention)
    assert "connecté" in answer["text"] and "http://testserver/assistant" in answer["text"]
    assert "7" not in answer["text"].split("http")[0]


def test_an_unknown_question_goes_to_the_moderators_and_their_answer_comes_back_under_it_once(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    mention = mastodon_server.mention("@ville Peut-on promener son chien dans le parc de la Boverie ?",
                                      visibility="direct", language="fr")
    _read_mentions(client)
    [first] = _answers(mastodon_server, mention)
    assert "Une personne de la ville" in first["text"] and first["visibility"] == "direct"
    session.expire_all()
    question = session.exec(select(AssistantQuestion)).one()
    assert question.outcome == Outcome.handed

    client.login_as(make_user(session, role=Role.moderator))
    queue = client.get("/moderation/assistant").text
    assert "promener son chien" in queue and "Posée sur Mastodon par @citoyenne@social.example" in queue
    too_long = client.submit(f"/moderation/assistant/{question.id}/answer", {"answer_md": "Oui. " * 120})
    assert too_long.status_code == 422 and "Mastodon" in too_long.text
    done = client.submit(f"/moderation/assistant/{question.id}/answer",
                         {"answer_md": "Oui, **tenu en laisse**, sauf sur les plaines de jeux."})
    assert done.status_code == 303
    client.run_worker()
    with clock.travel(LATER):
        _read_mentions(client)
    answers = _answers(mastodon_server, mention)
    assert len(answers) == 2
    person = next(a for a in answers if a["id"] != first["id"])
    assert person["text"] == "@citoyenne@social.example Oui, tenu en laisse, sauf sur les plaines de jeux."
    assert person["visibility"] == "direct"


def test_each_mastodon_account_is_rate_limited(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    settings.assistant_questions_per_hour = 2
    for n in range(3):
        mastodon_server.mention(f"@ville question numéro {n} sur les horaires de la piscine ?", language="fr")
    _read_mentions(client)
    session.expire_all()
    assert len(session.exec(select(AssistantQuestion)).all()) == 2
    assert len([s for s in mastodon_server.statuses(CITY, token=mastodon_server.city_token)
                if s["in_reply_to_id"]]) == 2


def test_questions_from_mastodon_are_erased_on_request_and_after_the_retention(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    mastodon_server.mention("@ville Où se trouve la déchetterie la plus proche ?", language="fr")
    _read_mentions(client)
    session.expire_all()
    assert session.exec(select(Delivery)).one().status == DeliveryStatus.sent
    client.login_as(make_user(session, role=Role.moderator))
    wrong = client.submit("/moderation/assistant/erase-handle", {"handle": "citoyenne"})
    assert wrong.status_code == 422 and "identifiant complet" in wrong.text
    assert len(session.exec(select(AssistantQuestion)).all()) == 1  # nothing changed
    erased = client.submit("/moderation/assistant/erase-handle", {"handle": "@Citoyenne@social.example"})
    assert erased.status_code == 303
    assert "effacées : 1" in client.get(erased.headers["location"]).text.replace("\u202f", " ")
    session.expire_all()
    assert session.exec(select(AssistantQuestion)).all() == [] and session.exec(select(Delivery)).all() == []
    audit = session.exec(select(AuditEntry).where(AuditEntry.action == "assistant_erase")).one()
    assert "citoyenne" not in str(audit.model_dump()).lower()  # the log keeps the count, not the person

    with clock.travel(timedelta(minutes=2)):
        mastodon_server.mention("@ville Et les horaires du parc à conteneurs ?", language="fr")
        _read_mentions(client)
    session.expire_all()
    assert len(session.exec(select(AssistantQuestion)).all()) == 1
    with clock.travel(timedelta(days=settings.assistant_retention_days + 1)), client.db.transaction() as tx:
        assert privacy.purge(tx, settings) == 1
    session.expire_all()
    assert session.exec(select(AssistantQuestion)).all() == [] and session.exec(select(Delivery)).all() == []


def test_an_answer_is_found_again_after_mastodon_forgot_its_key(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A retry more than an hour after an attempt the server took (Mastodon keeps an
    Idempotency-Key an hour) looks for the status first: the answer is found and not posted
    again."""
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting", title="Parcs")
    mention = mastodon_server.mention("@ville quand se termine le vote ?", language="fr")
    posted = MastodonChannel.post

    def post_then_die(self: MastodonChannel, *args: Any, **kwargs: Any) -> Any:
        posted(self, *args, **kwargs)
        raise Killed

    monkeypatch.setattr(MastodonChannel, "post", post_then_die)
    with pytest.raises(Killed):
        _read_mentions(client)

    def never(self: MastodonChannel, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("posted again")

    monkeypatch.setattr(MastodonChannel, "post", never)
    with clock.travel(timedelta(hours=2)):
        client.run_worker()
    [answer] = _answers(mastodon_server, mention)
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    assert delivery.status == DeliveryStatus.sent and delivery.remote_id == answer["id"]


def test_an_answer_is_recognised_in_mastodons_html_where_handles_lose_their_server() -> None:
    """Mastodon shows `@name` in a status's HTML for the `@name@server` its text named (the
    mock server keeps the text as written, so this is checked on Mastodon's own markup)."""
    from app.announce.channels.mastodon import _comparable

    html = ('<p><span class="h-card" translate="no"><a href="https://social.example/@citoyenne" '
            'class="u-url mention">@<span>citoyenne</span></a></span> Le vote se termine le 3 décembre.</p>')
    assert _comparable(html_to_text(html)) == _comparable("@citoyenne@social.example Le vote se termine le 3 décembre.")


def test_a_token_without_the_notifications_scope_leaves_the_channel_publishing(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    channel = _channel(session, settings, mastodon_server)
    mastodon_server.fault(path="/api/v1/notifications", methods=["GET"], status=403, count=None)
    mastodon_server.mention("@ville quand se termine le vote ?", language="fr")
    _read_mentions(client)
    session.expire_all()
    assert session.get(ChannelAccount, channel.id).state == "ok"  # type: ignore[union-attr]
    assert session.exec(select(AssistantQuestion)).all() == []


def test_an_answer_mastodon_refused_is_on_the_deliveries_page_and_can_be_tried_again(
        client: WebClient, session: Session, settings: Settings, mastodon_server: MastodonServer) -> None:
    _channel(session, settings, mastodon_server)
    make_call(session, phase="voting")
    mention = mastodon_server.mention("@ville quand se termine le vote ?", language="fr")
    mastodon_server.fail_next("/api/v1/statuses", [422])  # refused for good: no retry by itself
    _read_mentions(client)
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    assert delivery.status == DeliveryStatus.dead and _answers(mastodon_server, mention) == []
    client.login_as(make_user(session, role=Role.moderator))
    page = client.get("/moderation/deliveries").text
    assert f"réponse de l’assistant à la question n° {delivery.question_id}" in page.replace("\u202f", " ")
    assert client.submit(f"/moderation/deliveries/{delivery.id}/retry").status_code == 303
    client.run_worker()
    assert len(_answers(mastodon_server, mention)) == 1
