"""Notification pages: the list (which marks them read), e-mail preferences, and the
unsubscribe link from e-mails, which works without logging in, with its one-click variant for
mailbox providers (RFC 8058); and the header's unread count, loaded once per request with the
current user."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import links, security
from app.account.models import User
from app.authz import Action
from app.db import writes_on_read
from app.deps import AppSettings, DbSession, allowed
from app.errors import ValidationFailed
from app.i18n import N_, gettext
from app.notify import service, views
from app.notify.models import DELIVERY_LABELS, KIND_LABELS, NotificationKind
from app.security import ONE_CLICK_FIELD, ONE_CLICK_VALUE
from app.settings import Settings
from app.web import draws_no_page, flash, redirect, render

router = APIRouter(prefix="/notifications", tags=["notify"], include_in_schema=False)

Reader = Annotated[User, allowed(Action.notification_view)]


def read_unread_count(request: Request, session: Session, user: User | None) -> None:
    """A request reader (app.account.sessions.RequestReader), run with the current user: the
    header's unread count on request.state, read by app.web.render. One indexed COUNT in the
    request's own session, for logged-in people only; the template only shows it. Not for a
    write answered without a page (a support, by a script or a form: app.web.draws_no_page):
    app.web reads it then only if a page is drawn after all."""
    if draws_no_page(request):
        request.state.unread_deferred = True
        return
    if user is not None and user.id is not None:
        request.state.unread_notifications = service.unread_count(session, user.id)


def _kinds_for(user_is_staff: bool) -> list[tuple[str, str]]:
    return [(kind.value, label) for kind, label in KIND_LABELS.items()
            if kind != NotificationKind.report or user_is_staff]


@router.get("", name="notify:list")
@writes_on_read  # what the list shows is seen, so read: a write in the request's own turn
def notification_list(request: Request, session: DbSession, user: Reader) -> HTMLResponse:
    assert user.id is not None
    items = views.views(session, user, service.recent(session, user.id))
    unread_ids = {v.notification.id for v in items if v.notification.read_at is None}
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
    return flash(request, redirect(links.path("notify:list")), N_("All notifications are marked as read."), "success")


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


@router.post("/preferences", name="notify:save_preferences")
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
    return flash(request, redirect(links.path("notify:preferences")), N_("Your e-mail preferences are saved."),
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


@router.post("/unsubscribe/{token}", name="notify:confirm_unsubscribe")
def unsubscribe(request: Request, session: DbSession, settings: AppSettings, token: str) -> HTMLResponse:
    found = service.read_unsubscribe_token(settings, token)
    if found is None:
        return _unsubscribe_page(request, settings, token)
    user_id, kinds = found
    if session.get(User, user_id) is not None:
        service.unsubscribe(session, user_id=user_id, kinds=kinds)
        session.commit()
    return _unsubscribe_page(request, settings, token, done=True)


# One-click unsubscribe (RFC 8058) ------------------------------------------------------------
# Mailbox providers POST "List-Unsubscribe=One-Click" to the List-Unsubscribe address of an
# e-mail, form-encoded and without cookies, so without a CSRF token: the signed token in the
# address is the proof. This one route is exempted from the CSRF check, by name, and only for a
# request that carries a genuine token and exactly that body (`one_click_proof`, see create_app).

ONE_CLICK_ROUTE = "notify:one_click"
# The exemption's proof: a genuine token and exactly the one-click body (app.security).
one_click_proof = security.one_click_proof(
    lambda request, token: service.read_unsubscribe_token(request.app.state.settings, token) is not None)


@router.get("/unsubscribe/{token}/one-click", name="notify:one_click_page")
def one_click_form(request: Request, settings: AppSettings, token: str) -> HTMLResponse:
    # A mail reader without RFC 8058 support may open the address: it shows the page with the button.
    return _unsubscribe_page(request, settings, token)


@router.post("/unsubscribe/{token}/one-click", name=ONE_CLICK_ROUTE)
def one_click_unsubscribe(request: Request, session: DbSession, settings: AppSettings, token: str,
                          list_unsubscribe: Annotated[str, Form(alias=ONE_CLICK_FIELD, max_length=20)] = "",
                          ) -> HTMLResponse:
    found = service.read_unsubscribe_token(settings, token)
    if found is None or list_unsubscribe != ONE_CLICK_VALUE:
        return _unsubscribe_page(request, settings, token)  # the page with its button, nothing changed
    user_id, kinds = found
    if session.get(User, user_id) is not None:
        service.unsubscribe(session, user_id=user_id, kinds=kinds)
        session.commit()
    return _unsubscribe_page(request, settings, token, done=True)
