"""Notification pages: the list (which marks them read), e-mail preferences, and the
unsubscribe link from e-mails, which works without logging in; and the header's unread count,
loaded once per request with the current user."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.account.models import User
from app.authz import Action
from app.db import writes_on_read
from app.deps import AppSettings, CurrentUser, DbSession, allowed
from app.i18n import N_
from app.notify import service
from app.notify.models import KIND_LABELS, NotificationKind
from app.settings import Settings
from app.web import flash, redirect, render

router = APIRouter(prefix="/notifications", tags=["notify"], include_in_schema=False)

Reader = Annotated[User, allowed(Action.notification_view)]


def load_unread_count(request: Request, session: DbSession, user: CurrentUser) -> None:
    """Application-wide dependency, after the current user: the header's unread count on
    request.state, read by app.web.render. One indexed COUNT in the request's own session, for
    logged-in people only; the template only shows it."""
    if user is not None and user.id is not None:
        request.state.unread_notifications = service.unread_count(session, user.id)


def _kinds_for(user_is_staff: bool) -> list[tuple[str, str]]:
    return [(kind.value, label) for kind, label in KIND_LABELS.items()
            if kind != NotificationKind.report or user_is_staff]


@router.get("", name="notify:list")
@writes_on_read  # what the list shows is seen, so read: a write in the request's own turn
def notification_list(request: Request, session: DbSession, user: Reader) -> HTMLResponse:
    assert user.id is not None
    items = service.recent(session, user.id)
    unread_ids = {n.id for n in items if n.read_at is None}
    # Only what was shown is marked: one arriving meanwhile, or beyond this page, stays unread.
    if unread_ids:
        service.mark_all_read(session, user.id, only_ids=[i for i in unread_ids if i is not None])
        session.commit()
    request.state.unread_notifications = 0
    return render(request, "notify/list.html", {"items": items, "unread_ids": unread_ids,
                                                "is_status_label": service.is_status_label})


@router.post("/read", name="notify:read")
def mark_read(request: Request, session: DbSession, user: Reader) -> Response:
    assert user.id is not None
    service.mark_all_read(session, user.id)
    session.commit()
    return flash(request, redirect("/notifications"), N_("All notifications are marked as read."), "success")


@router.get("/preferences", name="notify:preferences")
def preferences_form(request: Request, session: DbSession, user: Reader) -> HTMLResponse:
    assert user.id is not None
    return render(request, "notify/preferences.html", {
        "prefs": service.email_preferences(session, user.id), "kinds": _kinds_for(user.is_staff),
    })


@router.post("/preferences")
async def save_preferences(request: Request, session: DbSession, user: Reader) -> Response:
    assert user.id is not None
    form = await request.form()
    enabled = {str(v) for v in form.getlist("email")} & {k.value for k in NotificationKind}
    service.set_email_preferences(session, user_id=user.id, enabled_kinds=enabled)
    session.commit()
    return flash(request, redirect("/notifications/preferences"), N_("Your e-mail preferences are saved."),
                 "success")


def _unsubscribe_page(request: Request, settings: Settings, token: str, *, done: bool = False) -> HTMLResponse:
    found = service.read_unsubscribe_token(settings, token)
    if found is None:
        return render(request, "notify/unsubscribe.html", {"valid": False, "token": "", "label": "", "done": False},
                      status_code=400)
    _user_id, kind = found
    return render(request, "notify/unsubscribe.html", {
        "valid": True, "token": token, "label": KIND_LABELS[NotificationKind(kind)], "done": done,
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
    user_id, kind = found
    from_db = session.get(User, user_id)
    if from_db is not None:
        service.set_email_preference(session, user_id=user_id, kind=kind, enabled=False)
        session.commit()
    return _unsubscribe_page(request, settings, token, done=True)
