"""Notification pages: the list (which marks them read), e-mail preferences, and the
unsubscribe link from e-mails, which works without logging in."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.account.models import User
from app.authz import Action
from app.db import Database
from app.deps import AppSettings, DbSession, allowed
from app.errors import ValidationFailed
from app.i18n import N_, gettext
from app.notify import service
from app.notify.models import DELIVERY_LABELS, KIND_LABELS, NotificationKind
from app.settings import Settings
from app.web import env, flash, redirect, render

router = APIRouter(prefix="/notifications", tags=["notify"], include_in_schema=False)

Reader = Annotated[User, allowed(Action.notification_view)]


def unread_notifications(request: Request) -> int:
    """The header's count: one indexed COUNT per page, for logged-in people only."""
    user = getattr(request.state, "user", None)
    if user is None or user.id is None:
        return 0
    cached = getattr(request.state, "unread_notifications", None)
    if cached is None:
        db: Database = request.app.state.db
        with db.session() as session:
            cached = service.unread_count(session, user.id)
        request.state.unread_notifications = cached
    return int(cached)


env.globals["unread_notifications"] = unread_notifications


def _kinds_for(user_is_staff: bool) -> list[tuple[str, str]]:
    return [(kind.value, label) for kind, label in KIND_LABELS.items()
            if kind != NotificationKind.report or user_is_staff]


@router.get("", name="notify:list")
def notification_list(request: Request, session: DbSession, user: Reader) -> HTMLResponse:
    assert user.id is not None
    items = service.recent(session, user.id)
    unread_ids = {n.id for n in items if n.read_at is None}
    # Seen now: marked read in a short write transaction of its own (this page is a GET). Only
    # what was shown: one arriving meanwhile, or beyond this page, stays unread.
    if unread_ids:
        with request.app.state.db.transaction() as write:
            service.mark_all_read(write, user.id, only_ids=[i for i in unread_ids if i is not None])
    request.state.unread_notifications = 0
    return render(request, "notify/list.html", {"items": items, "unread_ids": unread_ids,
                                                "is_status_label": service.is_status_label})


@router.post("/read", name="notify:read")
def mark_read(request: Request, session: DbSession, user: Reader) -> Response:
    assert user.id is not None
    service.mark_all_read(session, user.id)
    session.commit()
    return flash(request, redirect("/notifications"), N_("All notifications are marked as read."), "success")


def _preferences_page(request: Request, user: User, prefs: dict[str, str], errors: dict[str, str] | None = None,
                      status_code: int = 200) -> HTMLResponse:
    return render(request, "notify/preferences.html", {
        "prefs": prefs, "kinds": _kinds_for(user.is_staff), "deliveries": list(DELIVERY_LABELS.items()),
        "errors": errors or {},
    }, status_code=status_code)


@router.get("/preferences", name="notify:preferences")
def preferences_form(request: Request, session: DbSession, user: Reader) -> HTMLResponse:
    assert user.id is not None
    return _preferences_page(request, user, dict(service.delivery_preferences(session, user.id)))


@router.post("/preferences")
async def save_preferences(request: Request, session: DbSession, user: Reader) -> Response:
    assert user.id is not None
    form = await request.form()
    kinds = [kind for kind, _label in _kinds_for(user.is_staff)]
    try:
        choices = service.parse_deliveries(form, kinds)
    except ValidationFailed as exc:
        saved = service.delivery_preferences(session, user.id)
        shown = {k: str(form.get(f"delivery_{k}") or saved[k]) for k in kinds}  # as sent, nothing saved
        return _preferences_page(request, user, shown, exc.errors, 422)
    service.set_deliveries(session, user_id=user.id, choices=choices)
    session.commit()
    return flash(request, redirect("/notifications/preferences"), N_("Your e-mail preferences are saved."),
                 "success")


def _unsubscribe_page(request: Request, settings: Settings, token: str, *, done: bool = False) -> HTMLResponse:
    found = service.read_unsubscribe_token(settings, token)
    if found is None:
        return render(request, "notify/unsubscribe.html",
                      {"valid": False, "token": "", "kinds_text": "", "done": False}, status_code=400)
    _user_id, kinds = found
    return render(request, "notify/unsubscribe.html", {
        "valid": True, "token": token, "done": done,
        "kinds_text": "; ".join(gettext(KIND_LABELS[NotificationKind(k)]) for k in kinds),
    })


@router.get("/unsubscribe/{token}", name="notify:unsubscribe")
def unsubscribe_form(request: Request, settings: AppSettings, token: str) -> HTMLResponse:
    # Opening the link changes nothing (mail scanners follow links): the button does.
    return _unsubscribe_page(request, settings, token)


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, session: DbSession, settings: AppSettings, token: str) -> HTMLResponse:
    found = service.read_unsubscribe_token(settings, token)
    if found is None:
        return _unsubscribe_page(request, settings, token)
    user_id, kinds = found
    if session.get(User, user_id) is not None:
        service.unsubscribe(session, user_id=user_id, kinds=kinds)
        session.commit()
    return _unsubscribe_page(request, settings, token, done=True)
