"""The assistant's page without JavaScript, its limits (empty or too long questions, the rate
limit), "was this helpful?", the entries' admin pages (validated, audited, rendered at write
time), and the questions as personal data (export, erasure, retention)."""

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.account.models import Role
from app.assistant import privacy
from app.assistant.models import AssistantEntry, AssistantQuestion
from app.audit import AuditEntry
from app.clock import utcnow
from app.main import create_app
from app.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import WebClient, exported_data, make_settings


def _entry(client: WebClient, **overrides: str):  # type: ignore[no-untyped-def]
    form = {"question": "Quand passe la collecte des déchets ?", "phrasings": "Quel jour sortir les poubelles ?",
            "answer_md": "Le **mardi** matin. <script>alert(1)</script>", "language": "fr", "topic": "city",
            "review_on": "2027-06-01"}
    form.update(overrides)
    return client.submit("/moderation/assistant/entries", form)


def test_a_moderator_writes_an_entry_and_a_citizen_gets_it_without_javascript(
        client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    client.login_as(moderator)
    assert _entry(client).status_code == 303
    entry = session.exec(select(AssistantEntry)).one()
    assert entry.owner_id == moderator.id and "<strong>mardi</strong>" in entry.answer_html
    assert "<script" not in entry.answer_html
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "assistant_entry_save")).one()
    assert "Quand passe la collecte" in client.get("/moderation/assistant/entries").text

    client.login_as(make_user(session))
    page = client.get("/assistant")
    assert page.status_code == 200 and 'name="question"' in page.text
    answer = client.submit("/assistant", {"question": "quel jour sortir la poubelle"})
    assert answer.status_code == 200
    assert "<strong>mardi</strong>" in answer.text and f"/assistant/entries/{entry.id}" in answer.text
    assert "Cette réponse vous a-t-elle aidé" in answer.text


def test_bad_entries_are_refused_with_messages_and_nothing_written(client: WebClient, session: Session) -> None:
    client.login_as(make_user(session, role=Role.admin))
    response = _entry(client, question="", answer_md="", language="xx", review_on="demain")
    assert response.status_code == 422
    for message in ("Écrivez la question", "Écrivez la réponse", "Choisissez une langue",
                    "Donnez la date sous la forme"):
        assert message in response.text
    assert session.exec(select(AssistantEntry)).first() is None


def test_entries_are_edited_and_deleted_with_an_audit_trail(client: WebClient, session: Session) -> None:
    client.login_as(make_user(session, role=Role.admin))
    _entry(client)
    entry_id = session.exec(select(AssistantEntry)).one().id
    assert client.get(f"/moderation/assistant/entries/{entry_id}").status_code == 200
    changed = {"question": "Collecte ?", "answer_md": "Le jeudi.", "language": "fr", "topic": "city"}
    assert client.submit(f"/moderation/assistant/entries/{entry_id}", changed).status_code == 303
    session.expire_all()
    assert session.get(AssistantEntry, entry_id).answer_md == "Le jeudi."  # type: ignore[union-attr]
    assert client.submit(f"/moderation/assistant/entries/{entry_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(AssistantEntry, entry_id) is None
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "assistant_entry_delete")).one()


def test_empty_and_too_long_questions_get_a_message_and_keep_nothing(client: WebClient, session: Session) -> None:
    empty = client.submit("/assistant", {"question": "   "})
    assert empty.status_code == 422 and "Écrivez votre question" in empty.text
    long = client.submit("/assistant", {"question": "mot " * 200})
    assert long.status_code == 422 and "500 caractères" in long.text
    api = client.post("/api/assistant", json={"question": ""}, headers={"X-CSRF-Token": client.csrf()})
    assert api.status_code == 422 and "question" in api.json()["fields"]
    assert session.exec(select(AssistantQuestion)).first() is None


def test_the_api_needs_the_csrf_header(client: WebClient, session: Session) -> None:
    assert client.post("/api/assistant", json={"question": "bonjour"}).status_code == 403
    assert session.exec(select(AssistantQuestion)).first() is None


def test_questions_are_rate_limited_per_address(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "var", database_url, assistant_questions_per_hour=3)
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        for _ in range(3):
            assert web.submit("/assistant", {"question": "bonjour"}).status_code == 200
        refused = web.submit("/assistant", {"question": "bonjour"})
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        # People signed in from the same address (a library, a town hall) each have their own limit.
        for person in ("a", "b"):
            with web.db.transaction() as arranging:
                user = make_user(arranging, email=f"{person}@biblio.example")
            web.login_as(user)
            for _ in range(3):
                assert web.submit("/assistant", {"question": "bonjour"}).status_code == 200
            assert web.submit("/assistant", {"question": "bonjour"}).status_code == 429


def test_was_it_helpful_is_recorded_for_the_asker_only(client: WebClient, session: Session, settings: Settings) -> None:
    asked = client.post("/api/assistant", json={"question": "zzz inconnu"}, headers={"X-CSRF-Token": client.csrf()})
    qid, token = asked.json()["question_id"], asked.json()["token"]
    assert client.submit(f"/assistant/questions/{qid}/helpful", {"value": "no", "token": "forged"}).status_code == 404
    assert client.submit(f"/assistant/questions/{qid}/helpful", {"value": "no", "token": token}).status_code == 303
    session.expire_all()
    assert session.get(AssistantQuestion, qid).helpful is False  # type: ignore[union-attr]


def test_questions_are_exported_erased_with_the_account_and_purged(client: WebClient, session: Session,
                                                                    settings: Settings) -> None:
    citizen = make_user(session)
    client.login_as(citizen)
    client.submit("/assistant", {"question": "Ma question très personnelle"})
    data = exported_data(client.submit("/account/export").content)
    assert data["assistant_questions"][0]["question"] == "Ma question très personnelle"
    too_old = utcnow() - timedelta(days=settings.assistant_retention_days + 1)
    old = AssistantQuestion(text="ancienne", created_at=too_old)
    session.add(old)
    session.flush()
    assert privacy.purge(session, settings) == 1
    assert client.submit("/account/delete", {"password": DEFAULT_PASSWORD}).status_code == 303
    session.expire_all()
    assert session.exec(select(AssistantQuestion)).first() is None


def test_the_panel_leaves_pages_cacheable_and_gets_its_token_apart(client: WebClient, session: Session) -> None:
    page = client.get("/calls")
    assert 'id="assistant-launch"' in page.text and 'id="assistant-panel-template"' in page.text
    assert 'name="csrf_token"' not in page.text  # app.pagecache never keeps a page with a form token
    token = client.get("/api/assistant/token")
    assert token.headers["cache-control"] == "no-store"
    answer = client.post("/api/assistant", json={"question": "bonjour"},
                         headers={"X-CSRF-Token": token.json()["csrf_token"]})
    assert answer.status_code == 200 and answer.json()["kind"] == "unknown"
