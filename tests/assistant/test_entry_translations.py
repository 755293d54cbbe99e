"""Assistant entries in one original language with translations (issue 18): edited side by side
with the original, flagged out of date when the original changes after them, listed when missing;
questions matched against the text in the asker's language, else the original, whose answer is
then marked "Original in …" with its `lang` on the page and in the JSON API."""

from sqlmodel import Session, select

from app.account.models import Role
from app.assistant import knowledge
from app.assistant.knowledge import EntryInput
from app.assistant.models import AssistantEntry
from app.audit import AuditEntry
from tests.factories import make_user
from tests.support import WebClient

FRENCH = EntryInput(question="Où trouver la boîte à idées papier ?",
                    phrasings="Boîte à idées dans ma maison de quartier",
                    answer_md="Dans chaque **maison de quartier**.", language="fr", topic="ideas")


def _entry(session: Session) -> AssistantEntry:
    admin = make_user(session, role=Role.admin)
    entry = knowledge.save_entry(session, actor=admin, data=FRENCH)
    knowledge.save_translation(session, actor=admin, entry=entry, language="nl", texts={
        "question": "Waar vind ik de papieren ideeënbus?", "phrasings": "Ideeënbus in mijn buurthuis",
        "answer_md": "In elk **buurthuis**."})
    session.commit()
    return entry


def _ask_api(client: WebClient, language: str, question: str) -> dict:  # type: ignore[type-arg]
    client.get(f"/assistant?lang={language}")
    response = client.post("/api/assistant", json={"question": question}, headers={"X-CSRF-Token": client.csrf()})
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_a_dutch_asker_gets_the_translation_and_a_german_one_the_french_original_marked(
        client: WebClient, session: Session) -> None:
    entry = _entry(session)
    dutch = _ask_api(client, "nl", "waar is de ideeenbus van mijn buurthuis")
    assert dutch["kind"] == "entry" and "<strong>buurthuis</strong>" in dutch["html"]
    assert dutch["lang"] == "nl" and dutch["original"] == ""
    assert dutch["source"]["label"] == "Waar vind ik de papieren ideeënbus?"
    # German has no translation: the question is matched against the French original.
    german = _ask_api(client, "de", "boite a idees maison de quartier")
    assert german["kind"] == "entry" and "<strong>maison de quartier</strong>" in german["html"]
    assert german["lang"] == "fr" and german["original"] == "Original auf Französisch"

    client.get("/assistant?lang=de")
    page = client.submit("/assistant", {"question": "boite a idees maison de quartier"})
    main = page.text.split("<main", 1)[1]
    assert '<p class="original-language">Original auf Französisch</p>' in main
    assert '<div class="prose" lang="fr">' in main and f'href="/assistant/entries/{entry.id}" lang="fr"' in main
    public = client.get(f"/assistant/entries/{entry.id}?lang=de").text.split("<main", 1)[1]
    assert '<h1 lang="fr">Où trouver la boîte à idées papier ?</h1>' in public
    assert "Original auf Französisch" in public and 'lang="fr"' in public
    dutch_page = client.get(f"/assistant/entries/{entry.id}?lang=nl").text.split("<main", 1)[1]
    assert "<h1>Waar vind ik de papieren ideeënbus?</h1>" in dutch_page and "Origineel" not in dutch_page


def test_an_entry_of_the_asker_s_language_is_preferred_to_a_foreign_original(
        client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    french = knowledge.save_entry(session, actor=admin, data=FRENCH)
    german = knowledge.save_entry(session, actor=admin, data=EntryInput(
        question="Wo ist der Ideenkasten?", phrasings="Ideenkasten im Stadtteilhaus", answer_md="Im Stadtteilhaus.",
        language="de", topic="ideas"))
    session.commit()
    answer = _ask_api(client, "de", "ideenkasten stadtteilhaus")
    assert answer["source"]["href"] == f"/assistant/entries/{german.id}" and answer["original"] == ""
    assert answer["lang"] == "de"
    assert french.id != german.id


def test_staff_translate_side_by_side_and_see_what_is_out_of_date(client: WebClient, session: Session) -> None:
    entry = _entry(session)
    client.login_as(make_user(session, role=Role.admin))
    editor = client.get(f"/moderation/assistant/entries/{entry.id}/translations?to=de&lang=fr")
    assert editor.status_code == 200
    assert 'lang="fr">Dans chaque **maison de quartier**.</div>' in editor.text
    assert '<textarea id="f-answer_md" name="answer_md" lang="de"' in editor.text
    gaps = client.get("/moderation/assistant/entries?gaps=1&lang=de").text
    assert "Où trouver la boîte à idées papier" in gaps
    assert "Où trouver" not in client.get("/moderation/assistant/entries?gaps=1&lang=nl").text

    saved = client.submit(f"/moderation/assistant/entries/{entry.id}/translations", {
        "language": "de", "question": "Wo finde ich den Ideenkasten aus Papier?", "phrasings": "  Ideenkasten \n\n",
        "answer_md": "In jedem **Stadtteilhaus**."})
    assert saved.status_code == 303
    session.expire_all()
    stored = session.get(AssistantEntry, entry.id)
    assert stored is not None and stored.translations["de"]["phrasings"]["text"] == "Ideenkasten"
    assert stored.translations["de"]["answer_md"]["html"].strip() == "<p>In jedem <strong>Stadtteilhaus</strong>.</p>"
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "translation_save",
                                                 AuditEntry.target_type == "assistant_entry")).first()
    assert "Où trouver" not in client.get("/moderation/assistant/entries?gaps=1&lang=de").text

    # The original's answer changes: its translations are out of date, still shown, and listed.
    client.submit(f"/moderation/assistant/entries/{entry.id}", {**vars(FRENCH), "answer_md": "Dans chaque mairie."})
    editor = client.get(f"/moderation/assistant/entries/{entry.id}/translations?to=nl&lang=fr").text
    assert '<span class="tag tag-warning">périmée</span>' in editor
    assert "Où trouver" in client.get("/moderation/assistant/entries?gaps=1&lang=nl").text
    assert "Où trouver" in client.get("/moderation/assistant/entries?gaps=1").text


def test_bad_translations_are_refused_with_a_message_and_nothing_written(
        client: WebClient, session: Session) -> None:
    entry = _entry(session)
    client.login_as(make_user(session, role=Role.admin))
    url = f"/moderation/assistant/entries/{entry.id}/translations"
    same = client.submit(url, {"language": "fr", "question": "Autre"})
    assert same.status_code == 422 and "autre que celle de l" in same.text
    long = client.submit(url, {"language": "de", "question": "x" * 301, "answer_md": "Ja."})
    assert long.status_code == 422 and "Ce texte est trop long" in long.text
    unknown = client.submit(url, {"language": "xx", "question": "?"})
    assert unknown.status_code == 422
    session.expire_all()
    stored = session.get(AssistantEntry, entry.id)
    assert stored is not None and set(stored.translations) == {"nl"}
    assert client.get("/moderation/assistant/entries/999999/translations").status_code == 404
