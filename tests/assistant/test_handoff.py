"""Asking a person: an unanswerable question reaches the moderators' queue, the answer reaches
the asker (site and e-mail), promoting it makes the same question answered at once; the
figures on the dialogue page; who may do what."""

import html
import re
from datetime import timedelta
from urllib.parse import unquote

from sqlmodel import Session, select

from app.account.models import Role
from app.assistant.models import AssistantEntry, AssistantQuestion
from app.audit import AuditEntry
from app.clock import utcnow
from app.notify.models import Notification
from app.outbox.models import OutboxMessage
from tests.factories import make_user
from tests.support import WebClient

QUESTION = "Peut-on promener son chien en laisse dans le parc de la Boverie ?"


def _ask(client: WebClient, question: str) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/assistant", json={"question": question}, headers={"X-CSRF-Token": client.csrf()})
    assert response.status_code == 200, response.text
    return response.json()


def test_hand_off_round_trip_and_promotion(client: WebClient, session: Session) -> None:
    citizen = make_user(session, email="camille@example.org")
    moderator = make_user(session, role=Role.moderator)
    client.login_as(citizen)
    first = _ask(client, QUESTION)
    assert first["kind"] == "unknown" and first["hand"]
    assert client.submit(first["hand"]).status_code == 303

    client.login_as(moderator)
    queue = client.get("/moderation/assistant")
    assert QUESTION in queue.text
    empty = client.submit(f"/moderation/assistant/{first['question_id']}/answer", {"answer_md": "  "})
    assert empty.status_code == 422 and "Écrivez la réponse" in empty.text
    answered = client.submit(f"/moderation/assistant/{first['question_id']}/answer",
                             {"answer_md": "Oui, **tenu en laisse**, sauf sur les plaines de jeux."})
    assert answered.status_code == 303
    session.expire_all()
    note = session.exec(select(Notification).where(Notification.user_id == citizen.id)).one()
    assert note.kind == "assistant" and note.link == f"/assistant/questions/{first['question_id']}"
    mails = [m for m in session.exec(select(OutboxMessage)).all() if m.payload.get("to") == "camille@example.org"]
    assert len(mails) == 1 and "/assistant/questions/" in mails[0].payload["body"]
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "assistant_answer")).one()

    client.login_as(citizen)
    page = client.get(f"/assistant/questions/{first['question_id']}")
    assert "<strong>tenu en laisse</strong>" in page.text

    client.login_as(moderator)
    # One step opens the entry form filled with the question and the answer; nothing is public
    # until the moderator has read it and saved it.
    draft = client.get(f"/moderation/assistant/{first['question_id']}/promote", params={"topic": "city"})
    assert draft.status_code == 200 and "tenu en laisse" in draft.text and "devient publique" in draft.text
    assert session.exec(select(AssistantEntry)).first() is None
    fields = dict(re.findall(r'<input[^>]*name="(question|from_question)"[^>]*value="([^"]*)"', draft.text))
    assert fields["from_question"] == str(first["question_id"])
    saved = client.submit("/moderation/assistant/entries", {
        "question": html.unescape(fields["question"]), "from_question": fields["from_question"], "language": "fr",
        "topic": "city", "answer_md": "Oui, **tenu en laisse**, sauf sur les plaines de jeux.", "phrasings": ""})
    assert saved.status_code == 303
    entry = session.exec(select(AssistantEntry)).one()
    assert client.get(f"/moderation/assistant/{first['question_id']}/promote").status_code == 409  # once
    assert entry.language == "fr" and entry.topic == "city" and "tenu en laisse" in entry.answer_html

    client.login_as(make_user(session))
    again = _ask(client, "peut on promener son chien en laisse au parc de la boverie")
    assert again["kind"] == "entry" and "tenu en laisse" in again["html"]
    assert again["source"]["href"] == f"/assistant/entries/{entry.id}"
    assert client.get(again["source"]["href"]).status_code == 200


def test_only_the_asker_hands_their_question_and_sees_it(client: WebClient, session: Session) -> None:
    asker, other = make_user(session), make_user(session)
    client.login_as(asker)
    asked = _ask(client, QUESTION)
    client.login_as(other)
    assert client.submit(asked["hand"]).status_code == 404
    assert client.get(f"/assistant/questions/{asked['question_id']}").status_code == 404
    session.expire_all()
    assert session.get(AssistantQuestion, asked["question_id"]).outcome == "unknown"  # type: ignore[union-attr]


def test_a_visitor_logs_in_then_sends_the_same_question(client: WebClient, session: Session) -> None:
    asked = _ask(client, QUESTION)
    assert client.submit(asked["hand"], {"token": "forged"}).status_code == 404
    response = client.submit(asked["hand"], {"token": asked["token"]})
    location = response.headers["location"]
    assert response.status_code == 303 and location.startswith("/account/login")
    back = unquote(location.split("next=", 1)[1])
    visitor = make_user(session)
    client.login_as(visitor)
    page = client.get(back)
    assert QUESTION in page.text and asked["hand"] in page.text
    sent = client.submit(asked["hand"], {"token": asked["token"]})
    assert sent.status_code == 303
    session.expire_all()
    question = session.get(AssistantQuestion, asked["question_id"])
    assert question is not None and question.user_id == visitor.id and question.outcome == "handed"
    # Claimed once: another person with the same token gets nothing.
    client.login_as(make_user(session))
    assert client.submit(asked["hand"], {"token": asked["token"]}).status_code == 404


def test_citizens_may_not_open_the_queue_or_the_entries(client: WebClient, session: Session) -> None:
    client.login_as(make_user(session))
    assert client.get("/moderation/assistant").status_code == 403
    assert client.get("/moderation/assistant/entries").status_code == 403
    assert client.submit("/moderation/assistant/entries", {"question": "Q ?", "answer_md": "A", "language": "fr",
                                              "topic": "other"}).status_code == 403
    assert session.exec(select(AssistantEntry)).first() is None


def test_figures_on_the_dialogue_page(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    now = utcnow()
    session.add(AssistantQuestion(text="a", outcome="answered", helpful=False))
    session.add(AssistantQuestion(text="b", outcome="answered", helpful=True))
    session.add(AssistantQuestion(text="c", outcome="handed", handed_at=now))
    session.add(AssistantQuestion(text="d", outcome="human", handed_at=now - timedelta(hours=6), answered_at=now))
    session.add(AssistantQuestion(text="e", outcome="unknown"))
    session.flush()
    client.login_as(admin)
    page = client.get("/admin/dialogue").text
    figures = page[page.index("assistant-figures"):page.index("All calls") if "All calls" in page else None]
    for label, value in (("Questions posées", "5"), ("Répondues automatiquement", "2 (40"),
                         ("Confiées à une personne", "2"), ("Réponses jugées inutiles", "1")):
        assert f"{label}</th><td>{value}" in figures, label
    assert "6 heures" in figures or "6,0 heures" in figures



def test_a_quick_answer_shows_its_minutes_not_zero_hours(client: WebClient, session: Session) -> None:
    """Review finding: questions answered within minutes showed a median of « 0 heures »."""
    admin = make_user(session, role=Role.admin)
    now = utcnow()
    session.add(AssistantQuestion(text="d", outcome="human", handed_at=now - timedelta(minutes=20), answered_at=now))
    session.flush()
    client.login_as(admin)
    page = client.get("/admin/dialogue").text
    figures = page[page.index("assistant-figures"):page.index("All calls") if "All calls" in page else None]
    assert "20 minutes" in figures and "0 heures" not in figures
