"""The assistant for everyone: the page (a form and its answer, without JavaScript), the JSON
API the conversation panel uses, a person's questions and their answers, and the public view of
an entry (the source every entry answer links to)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app import authz, links
from app.account.models import User
from app.assistant import answering, handoff
from app.assistant.answering import Answer
from app.assistant.models import AssistantEntry, AssistantQuestion, Outcome
from app.authz import Action
from app.db import get_or_not_found
from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, current_language, gettext
from app.params import parse_id
from app.security import csrf_token
from app.settings import Settings
from app.web import flash, redirect, render, wants_script

router = APIRouter(tags=["assistant"], include_in_schema=False)
api_router = APIRouter(prefix="/api/assistant", tags=["assistant"])

QuestionField = Annotated[str, Form(max_length=2_000)]
Short = Annotated[str, Form(max_length=200)]
SALT = "assistant-question"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def question_token(settings: Settings, question_id: int) -> str:
    """A signed token naming question `question_id`: lets the visitor who asked it (no account)
    say whether the answer helped, and nobody else."""
    return URLSafeSerializer(settings.resolved_secret_key, salt=SALT).dumps(question_id)


def _token_names(settings: Settings, token: str, question_id: int) -> bool:
    try:
        return URLSafeSerializer(settings.resolved_secret_key, salt=SALT).loads(token) == question_id
    except BadSignature:
        return False


def _own_question(session: Session, user: User | None, question_id: int) -> AssistantQuestion:
    """The question `question_id` when `user` asked it; NotFound otherwise (another person's
    question is not even said to exist)."""
    question = session.get(AssistantQuestion, question_id)
    if question is None or not authz.can(user, Action.assistant_own_question, question):
        raise NotFound()
    return question


def _page(request: Request, session: Session, settings: Settings, user: User | None, *, question: str = "",
          answer: Answer | None = None, errors: dict[str, str] | None = None, status_code: int = 200,
          claimed: AssistantQuestion | None = None, claim_token: str = "") -> HTMLResponse:
    mine = []
    if user is not None:
        mine = list(session.exec(select(AssistantQuestion).where(
            AssistantQuestion.user_id == user.id, col(AssistantQuestion.outcome).in_((Outcome.handed, Outcome.human)))
            .order_by(col(AssistantQuestion.created_at).desc()).limit(10)).all())
    token = question_token(settings, answer.question_id) if answer and answer.question_id else ""
    return render(request, "assistant/page.html", {
        "question": question, "answer": answer, "errors": errors or {}, "mine": mine, "token": token,
        "retention_days": settings.assistant_retention_days, "claimed": claimed, "claim_token": claim_token,
    }, status_code=status_code)


@router.get("/assistant", name="assistant:page")
def page(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, claim: str = "",
         token: str = "") -> HTMLResponse:
    """The assistant's page: a question form; a person's questions handed to the city; and,
    back from logging in to ask a person, the question asked as a visitor (`claim`, with its
    signed `token`) with the button that sends it."""
    claimed = None
    question_id = parse_id(claim)
    if user is not None and question_id is not None and _token_names(settings, token[:200], question_id):
        found = session.get(AssistantQuestion, question_id)
        claimed = found if found is not None and found.user_id is None else None
    return _page(request, session, settings, user, claimed=claimed, claim_token=token[:200] if claimed else "")


@router.post("/assistant", name="assistant:ask")
def ask(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
        question: QuestionField = "") -> HTMLResponse:
    """Answer the question sent by the form, on the same page (422 with a message for an empty
    or too long question, nothing kept)."""
    try:
        answer = answering.ask(session, settings, user=user, text=question, language=current_language(),
                               address=_address(request))
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, settings, user, question=question[:2000], errors=exc.errors, status_code=422)
    session.commit()
    return _page(request, session, settings, user, question=question, answer=answer)


@router.get("/assistant/questions/{question_id}", name="assistant:question")
def question_page(request: Request, session: DbSession, user: CurrentUser, question_id: int) -> HTMLResponse:
    """One's own question and, once a person answered it, their answer."""
    question = _own_question(session, user, question_id)
    return render(request, "assistant/question.html", {"q": question})


@router.post("/assistant/questions/{question_id}/person", name="assistant:hand")
def hand(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, question_id: int,
         token: Short = "") -> Response:
    """Ask a person: the question goes to the moderators' queue. A visitor logs in first and
    comes back to the assistant's page, which offers to send the same question (the signed
    `token` the answer carried lets them claim it); nobody else's question can be claimed."""
    question = session.get(AssistantQuestion, question_id)
    claimable = question is not None and question.user_id is None and _token_names(settings, token, question_id)
    if user is None:
        if not claimable:
            raise NotFound()
        return redirect(links.path("account:login", _query={"next": links.path(
            "assistant:page", _query={"claim": question_id, "token": token})}))
    if question is not None and claimable:
        question.user_id = user.id
        session.add(question)
    question = _own_question(session, user, question_id)
    handoff.hand_to_person(session, user=user, question=question)
    session.commit()
    message = N_("Your question was sent to the city. You will be told here and by e-mail when a person answers.")
    if wants_script(request):
        return JSONResponse({"message": gettext(message)})
    return flash(request, redirect(links.path("assistant:question", question_id=question_id)), message, "success")


@router.post("/assistant/questions/{question_id}/helpful", name="assistant:helpful")
def helpful(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, question_id: int,
            value: Short = "", token: Short = "") -> Response:
    """The answer to "was this helpful?", from the person who asked (their account, or the
    signed token the answer carried for a visitor)."""
    question = session.get(AssistantQuestion, question_id)
    if question is None or not (authz.can(user, Action.assistant_own_question, question)
                                or (question.user_id is None and _token_names(settings, token, question_id))):
        raise NotFound()
    if value not in ("yes", "no"):
        raise ValidationFailed({"value": N_("Please choose yes or no.")})
    answering.mark_helpful(session, question=question, helpful=value == "yes")
    session.commit()
    message = N_("Thank you: this helps the city improve its answers.")
    if wants_script(request):
        return JSONResponse({"message": gettext(message)})
    return flash(request, redirect(links.path("assistant:page")), message, "success")


@router.get("/assistant/entries/{entry_id}", name="assistant:entry")
def entry_page(request: Request, session: DbSession, entry_id: int) -> HTMLResponse:
    """An entry as anyone may read it: the question and the city's answer."""
    entry = get_or_not_found(session, AssistantEntry, entry_id)
    return render(request, "assistant/entry.html", {"entry": entry})


@api_router.get("/token", name="assistant:token")
def token(request: Request) -> JSONResponse:
    """The visitor's CSRF token, for the conversation panel's requests: pages leave it out of
    their markup so that the page cache may keep them (app.pagecache never keeps a page with a
    form token). Never cached; readable by the site's own scripts only (no CORS)."""
    return JSONResponse({"csrf_token": csrf_token(request)}, headers={"Cache-Control": "no-store"})


class AskBody(BaseModel):
    question: str = Field(max_length=2_000)


def answer_json(answer: Answer, settings: Settings) -> dict[str, Any]:
    """An answer as the API returns it: `kind` ("entry", "live", "unknown"), `text` (plain),
    `html` (an entry's sanitised answer, or ""), `lang` (the language of an entry's answer, or
    ""), `original` ("Original in French" in the interface language when that answer is the
    original in another language than the asker's, else ""), `source` {label, href} or null,
    `items` [{label, href}], `score` (0 to 1), `question_id`, `token` (for "was this helpful?"),
    and the forms' addresses `hand` and `helpful`."""
    qid = answer.question_id or 0
    return {
        "kind": answer.kind, "text": answer.text, "html": answer.html, "score": answer.score,
        "lang": answer.lang, "original": answer.marker,
        "source": {"label": answer.source.label, "href": answer.source.href} if answer.source else None,
        "items": [{"label": i.label, "href": i.href} for i in answer.items],
        "question_id": answer.question_id, "token": question_token(settings, qid) if qid else "",
        "hand": links.path("assistant:hand", question_id=qid) if qid else "",
        "helpful": links.path("assistant:helpful", question_id=qid) if qid else "",
    }


@api_router.post("", name="assistant:api_ask")
def api_ask(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
            body: AskBody) -> JSONResponse:
    """Ask the assistant (JSON in, JSON out; the X-CSRF-Token header like every unsafe request).
    422 {"error", "fields"} for an empty or too long question, 429 over the rate limit."""
    answer = answering.ask(session, settings, user=user, text=body.question, language=current_language(),
                           address=_address(request))
    session.commit()
    return JSONResponse(answer_json(answer, settings))
