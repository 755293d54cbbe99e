"""The legal and trust pages (app.pages.legal): one public page each, in the visitor's language,
and the administration's section where administrators write them in every language."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import links
from app.account.models import User
from app.authz import Action
from app.deps import AppSettings, DbSession, allowed
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, current_language
from app.pages import legal
from app.settings import LANGUAGES, Settings
from app.web import flash, redirect, render

router = APIRouter(include_in_schema=False)
LegalEditor = Annotated[User, allowed(Action.legal_pages_edit)]


def _page(kind: str) -> Callable[[Request, Session, Settings], HTMLResponse]:
    def show(request: Request, session: DbSession, settings: AppSettings) -> HTMLResponse:
        text = legal.text_of(session, settings, kind, current_language())
        return render(request, "pages/legal.html", {"page": text, "title": legal.KINDS[kind][0]})
    show.__name__ = f"legal_{kind}"
    show.__doc__ = f"The {kind} page in the visitor's language (the administrators' text or the default)."
    return show


for _kind, (_title, _route) in legal.KINDS.items():
    router.add_api_route(f"/{_kind}", _page(_kind), methods=["GET"], name=_route, response_class=HTMLResponse)


@router.get("/admin/legal", name="admin:legal_pages")
def admin_list(request: Request, session: DbSession, settings: AppSettings, _user: LegalEditor) -> HTMLResponse:
    """Every legal page in every language: the default, or when an administrator last saved it,
    which is the original and which translations are out of date."""
    return render(request, "admin/legal_pages.html",
                  {"pages": legal.overview(session, settings), "languages": LANGUAGES})


def _kind_and_lang(kind: str, lang: str) -> None:
    if kind not in legal.KINDS or lang not in LANGUAGES:
        raise NotFound()


@router.get("/admin/legal/{kind}/{lang}", name="admin:legal_page_edit")
def edit_form(request: Request, session: DbSession, settings: AppSettings, _user: LegalEditor, kind: str,
              lang: str) -> HTMLResponse:
    """The page's text in `lang`; a translation is edited beside its original."""
    _kind_and_lang(kind, lang)
    return _form(request, session, settings, kind, lang, None, {})


def _form(request: Request, session: Session, settings: Settings, kind: str, lang: str, body_md: str | None,
          errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    text = legal.text_of(session, settings, kind, lang)
    original = settings.default_language
    return render(request, "admin/legal_page_form.html", {
        "page": text, "title": legal.KINDS[kind][0], "legal_route": legal.KINDS[kind][1],
        # A language without the city's text (visitors read the original) starts from the
        # platform's default in that language, the original beside it to translate from.
        "body_md": body_md if body_md is not None else (
            legal.default_markdown(kind, lang, settings.session_days) if text.foreign else text.markdown),
        "original_lang": original,
        "original_md": legal.original_markdown(session, settings, kind) if lang != original else "",
        "errors": errors}, status_code=status_code)


@router.post("/admin/legal/{kind}/{lang}", name="admin:legal_page_save")
def save(request: Request, session: DbSession, settings: AppSettings, user: LegalEditor, kind: str, lang: str,
         body_md: Annotated[str, Form()] = "", reset: Annotated[str, Form()] = "") -> Response:
    """Save the text (or, with `reset`, go back to the default); a text too long is refused
    with the form as it was sent."""
    _kind_and_lang(kind, lang)
    try:
        legal.save(session, settings, actor=user, kind=kind, lang=lang, markdown="" if reset else body_md)
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, session, settings, kind, lang, body_md, exc.errors, status_code=422)
    session.commit()
    message = N_("The default text is back.") if reset else N_("The page is saved.")
    return flash(request, redirect(links.path("admin:legal_page_edit", kind=kind, lang=lang)), message, "success")
