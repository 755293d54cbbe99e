"""Staff pages of the assistant: the knowledge entries (list, with the ones whose translations
are missing or out of date; write, edit, translate side by side with the original, delete) in the
administration, and the questions handed to a person in the moderation area (answer, then turn
the answer into an entry)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import contentlang, links
from app.account.models import User
from app.assistant import handoff, knowledge, mentions
from app.assistant.knowledge import EntryInput
from app.assistant.models import TOPICS, AssistantEntry, AssistantQuestion
from app.authz import Action
from app.db import get_or_not_found
from app.deps import AppSettings, DbSession, allowed
from app.errors import ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_, gettext
from app.params import parse_id
from app.settings import LANGUAGES
from app.web import flash, redirect, render

router = APIRouter(tags=["assistant"], include_in_schema=False)

Writer = Annotated[User, allowed(Action.assistant_knowledge)]
Answerer = Annotated[User, allowed(Action.assistant_answer)]
Short = Annotated[str, Form(max_length=400)]
Long = Annotated[str, Form(max_length=30_000)]


def _entry(session: Session, entry_id: int) -> AssistantEntry:
    return get_or_not_found(session, AssistantEntry, entry_id)


def _form(request: Request, values: dict[str, Any], errors: dict[str, str], entry: AssistantEntry | None = None,
          status_code: int = 200) -> HTMLResponse:
    return render(request, "assistant/entry_form.html", {
        "values": values, "errors": errors, "entry": entry,
        "languages": list(LANGUAGE_NAMES.items()), "topics": [(k, gettext(v)) for k, v in TOPICS.items()],
    }, status_code=status_code)


@router.get("/moderation/assistant/entries", name="assistant:entries")
def entries_page(request: Request, session: DbSession, _user: Writer, lang: str = "",
                 gaps: str = "") -> HTMLResponse:
    """Every entry, by topic, with its original language, its translations' state per language
    and its review date; filtered by original language, and (`gaps=1`) to the entries with a
    translation missing or out of date (into `lang` when given: then of every original language)."""
    lang = lang if lang in LANGUAGE_NAMES else ""
    gaps_only = gaps == "1"
    listed = knowledge.entries(session, None if gaps_only else lang or None)
    rows = [(e, knowledge.translation_state(e)) for e in listed]
    if gaps_only:
        rows = [(e, st) for e, st in rows
                if any(v != "done" for k, v in st.items() if not lang or k == lang)]
    return render(request, "assistant/entries.html", {
        "rows": rows, "filter_lang": lang, "gaps": gaps_only, "topics": TOPICS,
        "languages": list(LANGUAGE_NAMES.items()), "all_languages": LANGUAGES,
    })


@router.get("/moderation/assistant/entries/new", name="assistant:new")
def new_entry(request: Request, _user: Writer) -> HTMLResponse:
    return _form(request, {"language": "fr", "topic": "other"}, {})


def _input(question: str, phrasings: str, answer_md: str, language: str, topic: str, review_on: str) -> EntryInput:
    return EntryInput(question=question, phrasings=phrasings, answer_md=answer_md, language=language, topic=topic,
                      review_on=review_on)


@router.post("/moderation/assistant/entries", name="assistant:create")
def create_entry(request: Request, session: DbSession, user: Writer, question: Short = "", phrasings: Long = "",
                 answer_md: Long = "", language: Short = "fr", topic: Short = "other",
                 review_on: Short = "", from_question: Short = "") -> Response:
    data = _input(question, phrasings, answer_md, language, topic, review_on)
    source = _question(session, parse_id(from_question) or 0) if from_question else None
    try:
        entry = knowledge.save_entry(session, actor=user, data=data)
        if source is not None:
            handoff.mark_promoted(session, question=source, entry=entry)
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, {**vars(data), "from_question": from_question}, exc.errors, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("assistant:entries")), N_("The entry is saved."), "success")


@router.get("/moderation/assistant/entries/{entry_id}", name="assistant:edit")
def edit_entry(request: Request, session: DbSession, _user: Writer, entry_id: int) -> HTMLResponse:
    entry = _entry(session, entry_id)
    values = {"question": entry.question, "phrasings": entry.phrasings, "answer_md": entry.answer_md,
              "language": entry.language, "topic": entry.topic,
              "review_on": entry.review_on.isoformat() if entry.review_on else ""}
    return _form(request, values, {}, entry)


@router.post("/moderation/assistant/entries/{entry_id}", name="assistant:update")
def update_entry(request: Request, session: DbSession, user: Writer, entry_id: int, question: Short = "",
                 phrasings: Long = "", answer_md: Long = "", language: Short = "fr", topic: Short = "other",
                 review_on: Short = "") -> Response:
    entry = _entry(session, entry_id)
    data = _input(question, phrasings, answer_md, language, topic, review_on)
    try:
        knowledge.save_entry(session, actor=user, data=data, entry=entry)
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, vars(data), exc.errors, _entry(session, entry_id), status_code=422)
    session.commit()
    return flash(request, redirect(links.path("assistant:entries")), N_("The entry is saved."), "success")


@router.post("/moderation/assistant/entries/{entry_id}/delete", name="assistant:delete")
def delete_entry(request: Request, session: DbSession, user: Writer, entry_id: int) -> Response:
    knowledge.delete_entry(session, actor=user, entry=_entry(session, entry_id))
    session.commit()
    return flash(request, redirect(links.path("assistant:entries")), N_("The entry is deleted."), "success")


# --- Translations of an entry ------------------------------------------------------------------

TRANSLATED = ("question", "phrasings", "answer_md")
TRANSLATED_LABELS = {"question": N_("Question"), "phrasings": N_("Other ways of asking it"),
                     "answer_md": N_("Answer (Markdown)")}


def _targets(entry: AssistantEntry) -> list[str]:
    return [lang for lang in LANGUAGES if lang != entry.language]


def _translations(request: Request, entry: AssistantEntry, language: str, values: dict[str, str],
                  errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    return render(request, "assistant/entry_translations.html", {
        "entry": entry, "language": language, "languages": _targets(entry),
        "status": contentlang.status(entry, knowledge.KIND), "fields": TRANSLATED, "labels": TRANSLATED_LABELS,
        "language_labels": contentlang.LANGUAGE_LABELS, "values": values, "errors": errors,
        "states": knowledge.translation_state(entry),
    }, status_code=status_code)


@router.get("/moderation/assistant/entries/{entry_id}/translations", name="assistant:translations")
def translations_page(request: Request, session: DbSession, _user: Writer, entry_id: int, to: str = "") -> Response:
    """The entry's question, phrasings and answer, each original next to its translation into
    `to` (the first language other than the original when `to` is missing or not one of them)."""
    entry = _entry(session, entry_id)
    targets = _targets(entry)
    return _translations(request, entry, to if to in targets else targets[0], {}, {})


@router.post("/moderation/assistant/entries/{entry_id}/translations", name="assistant:translations_save")
def save_translations(request: Request, session: DbSession, user: Writer, entry_id: int, language: Short = "",
                      question: Short = "", phrasings: Long = "", answer_md: Long = "") -> Response:
    entry = _entry(session, entry_id)
    texts = {"question": question, "phrasings": phrasings, "answer_md": answer_md}
    try:
        changed = knowledge.save_translation(session, actor=user, entry=entry, language=language, texts=texts)
    except ValidationFailed as exc:
        session.rollback()
        fresh = _entry(session, entry_id)
        targets = _targets(fresh)
        return _translations(request, fresh, language if language in targets else targets[0], texts, exc.errors,
                             status_code=422)
    session.commit()
    location = links.path("assistant:translations", entry_id=entry_id, _query={"to": language})
    message = N_("The translations are saved.") if changed else N_("Nothing changed.")
    return flash(request, redirect(location), message, "success" if changed else "info")


# --- The moderators' queue -------------------------------------------------------------------

def _question(session: Session, question_id: int) -> AssistantQuestion:
    return get_or_not_found(session, AssistantQuestion, question_id)


def _queue(request: Request, session: Session, errors: dict[int, dict[str, str]] | None = None,
           drafts: dict[int, str] | None = None, status_code: int = 200, erase_errors: dict[str, str] | None = None,
           erase_handle: str = "") -> HTMLResponse:
    return render(request, "assistant/queue.html", {
        "waiting": handoff.waiting(session), "answered": handoff.recently_answered(session),
        "errors": errors or {}, "drafts": drafts or {}, "topics": list(TOPICS.items()),
        "erase_errors": erase_errors or {}, "erase_handle": erase_handle,
    }, status_code=status_code)


@router.get("/moderation/assistant", name="assistant:queue")
def queue_page(request: Request, session: DbSession, _user: Answerer) -> HTMLResponse:
    """Questions people asked a person about, the oldest first; the latest answered, to promote."""
    return _queue(request, session)


@router.post("/moderation/assistant/{question_id}/answer", name="assistant:answer")
def answer_question(request: Request, session: DbSession, settings: AppSettings, user: Answerer, question_id: int,
                    answer_md: Long = "") -> Response:
    question = _question(session, question_id)
    try:
        handoff.answer(session, settings, actor=user, question=question, answer_md=answer_md)
    except ValidationFailed as exc:
        session.rollback()
        return _queue(request, session, {question_id: exc.errors}, {question_id: answer_md}, status_code=422)
    session.commit()
    if question.remote_handle:
        return flash(request, redirect(links.path("assistant:queue")),
                     N_("The answer is sent: it will be posted under the question on Mastodon."), "success")
    return flash(request, redirect(links.path("assistant:queue")),
                 N_("The answer is sent. The person who asked is told on the site and by e-mail."), "success")


@router.post("/moderation/assistant/erase-handle", name="assistant:erase_handle")
def erase_handle(request: Request, session: DbSession, user: Answerer, handle: Short = "") -> Response:
    """Erase what the assistant keeps of a Mastodon account (its questions and the answers
    queued for them), at that person's request: they have no account here to do it themselves."""
    try:
        erased = mentions.erase_handle(session, handle=handle, actor=user)
    except ValidationFailed as exc:
        session.rollback()
        return _queue(request, session, erase_errors=exc.errors, erase_handle=handle, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("assistant:queue")),
                 N_("Questions of this Mastodon account erased: {count}."), "success", count=erased)


@router.get("/moderation/assistant/{question_id}/promote", name="assistant:promote")
def promote(request: Request, session: DbSession, _user: Writer, question_id: int, topic: str = "other") -> Response:
    """The entry form filled with a person's answer and the question it answered: nothing is
    public until the moderator has read it (names, addresses) and saved it."""
    question = _question(session, question_id)
    draft = handoff.entry_draft(question, topic if topic in TOPICS else "other")
    return _form(request, {**vars(draft), "review_on": "", "from_question": str(question.id)}, {})
