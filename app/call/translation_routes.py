"""The translation editor of a call (its fields, its themes, the districts) and its "translations
missing" view, for administrators (Action.content_translate). See app.call.translations."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app import links
from app.account.models import User
from app.authz import Action
from app.call import service, translations
from app.call.models import Call
from app.contentlang import FIELD_LABELS, LANGUAGE_LABELS, original_language
from app.deps import DbSession, allowed
from app.errors import ValidationFailed
from app.i18n import N_
from app.settings import LANGUAGES
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

Translator = Annotated[User, allowed(Action.content_translate)]
# The longest form the editor sends: a description of 60 000 characters plus the short fields.
MAX_FIELDS = 2_000


def _editor(request: Request, session: DbSession, call: Call, language: str, values: dict[str, str],
            errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    return render(request, "call/admin_translations.html", {
        "call": call, "language": language, "languages": translations.target_languages(call),
        "items": translations.items(session, call), "values": values, "errors": errors,
        "field_labels": FIELD_LABELS, "language_labels": LANGUAGE_LABELS,
    }, status_code=status_code)


@router.get("/calls/{call_id}/translations", name="admin:call_translations")
def editor(request: Request, session: DbSession, _user: Translator, call_id: int, to: str = "") -> Response:
    """The call's fields, themes and districts, each original next to its translation into `to`
    (the first language other than the original when `to` is missing or not one of them)."""
    call = service.get_call(session, call_id)
    targets = translations.target_languages(call)
    language = to if to in targets else targets[0]
    return _editor(request, session, call, language, {}, {})


@router.post("/calls/{call_id}/translations", name="admin:call_translations_save")
async def save(request: Request, session: DbSession, user: Translator, call_id: int) -> Response:
    call = service.get_call(session, call_id)
    form = await request.form(max_fields=MAX_FIELDS)
    texts = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    language = texts.get("language", "")
    try:
        changed = translations.save(session, actor=user, call=call, language=language, form=texts)
    except ValidationFailed as exc:
        session.rollback()
        fresh = service.get_call(session, call_id)
        targets = translations.target_languages(fresh)
        shown = language if language in targets else targets[0]
        return _editor(request, session, fresh, shown, texts, exc.errors, status_code=422)
    session.commit()
    location = links.path("admin:call_translations", call_id=call_id, _query={"to": language})
    message = N_("The translations are saved.") if changed else N_("Nothing changed.")
    return flash(request, redirect(location), message, "success" if changed else "info")


@router.get("/calls/{call_id}/translations/missing", name="admin:call_translations_missing")
def missing(request: Request, session: DbSession, _user: Translator, call_id: int) -> HTMLResponse:
    """What lacks which language, and what is out of date, for the call, its themes and the districts."""
    call = service.get_call(session, call_id)
    rows = [item for item in translations.items(session, call) if item.missing() or item.out_of_date()]
    return render(request, "call/admin_translations_missing.html", {
        "call": call, "rows": rows, "field_labels": FIELD_LABELS, "language_labels": LANGUAGE_LABELS,
        "original_language": original_language(call), "languages": LANGUAGES,
    })
