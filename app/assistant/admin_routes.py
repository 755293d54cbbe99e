"""Staff pages of the assistant: the knowledge entries (list, write, edit, delete) in the
administration, and the questions handed to a person in the moderation area (answer, then turn
the answer into an entry)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import links
from app.account.models import User
from app.assistant import handoff, knowledge, mentions
from app.assistant.knowledge import EntryInput
from app.assistant.models import TOPICS, AssistantEntry, AssistantQuestion
from app.authz import Action
from app.deps import AppSettings, DbSession, allowed
from app.errors import NotFound, ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_, gettext
from app.params import parse_id
from app.web import flash, redirect, render

router = APIRouter(tags=["assistant"], include_in_schema=False)

Writer = Annotated[User, allowed(Action.assistant_knowledge)]
Answerer = Annotated[User, allowed(Action.assistant_answer)]
Short = Annotated[str, Form(max_length=400)]
Long = Annotated[str, Form(max_length=30_000)]


def _entry(session: Session, entry_id: int) -> AssistantEntry:
    entry = session.get(AssistantEntry, entry_id)
    if entry is None:
        raise NotFound()
    return entry


def _form(request: Request, values: dict[str, Any], errors: dict[str, str], entry: AssistantEntry | None = None,
          status_code: int = 200) -> HTMLResponse:
    return render(request, "assistant/entry_form.html", {
        "values": values, "errors": errors, "entry": entry,
        "languages": list(LANGUAGE_NAMES.items()), "topics": [(k, gettext(v)) for k, v in TOPICS.items()],
    }, status_code=status_code)


@router.get("/moderation/assistant/entries", name="assistant:entries")
def entries_page(request: Request, session: DbSession, _user: Writer, lang: str = "") -> HTMLResponse:
    """Every entry, by topic, with its language, owner and review date; filtered by language."""
    lang = lang if lang in LANGUAGE_NAMES else ""
    return render(request, "assistant/entries.html", {
        "entries": knowledge.entries(session, lang or None), "filter_lang": lang, "topics": TOPICS,
        "languages": list(LANGUAGE_NAMES.items()),
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


# --- The moderators' queue -------------------------------------------------------------------

def _question(session: Session, question_id: int) -> AssistantQuestion:
    question = session.get(AssistantQuestion, question_id)
    if question is None:
        raise NotFound()
    return question


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
