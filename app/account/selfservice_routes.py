"""A person's own account pages (app.account.selfservice): change the password, change the
e-mail address (and its confirmation link), and the list of sessions with ending them."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import authz, cookies, links
from app.account import selfservice
from app.account.models import User
from app.account.sessions import LAST_SEEN_STEP
from app.authz import Action
from app.clock import utcnow
from app.deps import AppSettings, CitizenUser, CurrentUser, DbSession
from app.errors import RateLimited, ValidationFailed
from app.i18n import N_, gettext, ngettext
from app.security import hash_token
from app.web import flash, redirect, render

router = APIRouter(prefix="/account", tags=["account"], include_in_schema=False)


def _token(request: Request) -> str:
    """The cookie value of the browser's own session."""
    return cookies.SESSION.read(request)


def _limited(exc: RateLimited) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


# Password --------------------------------------------------------------------------------------

def _password_page(request: Request, errors: dict[str, str], *, end_others: bool = True,
                   status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "account/password.html", {"errors": errors, "end_others": end_others},
                  status_code=status_code, headers=headers)


@router.get("/password", name="account:password")
def password_form(request: Request, user: CitizenUser) -> HTMLResponse:
    return _password_page(request, {})


@router.post("/password", name="account:change_password")
def change_password(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
                    current_password: Annotated[str, Form(max_length=300)] = "",
                    new_password: Annotated[str, Form(max_length=300)] = "",
                    end_other_sessions: Annotated[str, Form(max_length=5)] = "") -> Response:
    end_others = bool(end_other_sessions)
    if not user.password_hash:
        return _password_page(request, {"current_password": selfservice.NO_PASSWORD_TO_CHANGE},
                              end_others=end_others, status_code=422)
    try:
        ended = selfservice.change_password(session, settings, user, current_password=current_password,
                                            new_password=new_password, end_other_sessions=end_others,
                                            current_token=_token(request))
    except ValidationFailed as exc:
        session.commit()  # only the failed attempt, which counts towards the login limit
        return _password_page(request, exc.errors, end_others=end_others, status_code=422)
    except RateLimited as exc:
        return _password_page(request, {"current_password": exc.message}, end_others=end_others,
                              status_code=429, headers=_limited(exc))
    session.commit()
    message = (N_("Your password is changed. Your other sessions are ended.") if ended
               else N_("Your password is changed."))
    return flash(request, redirect(links.path("account:profile")), message, "success")


# E-mail address --------------------------------------------------------------------------------

def _email_page(request: Request, errors: dict[str, str], values: dict[str, str] | None = None, *,
                status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "account/email.html", {"errors": errors, "values": values or {}},
                  status_code=status_code, headers=headers)


@router.get("/email", name="account:email")
def email_form(request: Request, user: CitizenUser) -> HTMLResponse:
    return _email_page(request, {})


@router.post("/email", name="account:change_email")
def change_email(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
                 new_email: Annotated[str, Form(max_length=300)] = "",
                 current_password: Annotated[str, Form(max_length=300)] = "") -> Response:
    values = {"new_email": new_email}
    try:
        address = selfservice.request_email_change(session, settings, user, new_email=new_email,
                                                   password=current_password)
    except ValidationFailed as exc:
        session.commit()  # only a failed password attempt, which counts towards the login limit
        return _email_page(request, exc.errors, values, status_code=422)
    except RateLimited as exc:
        return _email_page(request, {"new_email": exc.message}, values, status_code=429, headers=_limited(exc))
    session.commit()
    return flash(request, redirect(links.path("account:profile")),
                 N_("We sent a link to {email}. Your address changes when you open it."), "success", email=address)


@router.get("/email/confirm", name="account:email_confirm_form")
def email_confirm_form(request: Request, session: DbSession, token: str = "") -> HTMLResponse:
    # Opening the link changes nothing (mail scanners follow links): the button does.
    address = selfservice.pending_address(session, token)
    return render(request, "account/email_confirm.html",
                  {"token": token if address else "", "address": address, "errors": {}},
                  status_code=200 if address else 410)


@router.post("/email/confirm", name="account:email_confirm")
def email_confirm(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
                  token: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        person = selfservice.confirm_email_change(session, settings, token=token)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "account/email_confirm.html", {"token": "", "address": None, "errors": exc.errors},
                      status_code=422 if "new_email" in exc.errors else 410)
    session.commit()
    mine = user is not None and user.id == person.id
    target = links.path("account:profile") if mine else links.path("account:login")
    return flash(request, redirect(target), N_("Your e-mail address is now {email}."), "success", email=person.email)


# Sessions --------------------------------------------------------------------------------------

def last_seen_label(moment: datetime) -> str:
    """How long ago a session was last active, approximately, in the current language
    ("Active now", "Active 3 hours ago"): sessions note their activity every few minutes only."""
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    if seconds < 2 * LAST_SEEN_STEP.total_seconds():
        return gettext(N_("Active now"))
    if seconds < 3600:
        return ngettext("Active {n} minute ago", "Active {n} minutes ago", seconds // 60)
    if seconds < 2 * 86400:
        return ngettext("Active {n} hour ago", "Active {n} hours ago", seconds // 3600)
    return ngettext("Active {n} day ago", "Active {n} days ago", seconds // 86400)


def _sessions_context(request: Request, session: DbSession, user: User) -> dict[str, Any]:
    views = selfservice.sessions_of(session, user, current_token=_token(request))
    return {"sessions": [(v, last_seen_label(v.last_seen_at)) for v in views]}


@router.get("/sessions", name="account:sessions")
def sessions_page(request: Request, session: DbSession, user: CitizenUser) -> HTMLResponse:
    return render(request, "account/sessions.html", _sessions_context(request, session, user))


@router.post("/sessions/{session_id}/end", name="account:end_session")
def end_session(request: Request, session: DbSession, user: CitizenUser, session_id: int) -> Response:
    row = selfservice.find_session(session, session_id)
    authz.require(user, Action.session_end, row)
    current = row.token_hash == hash_token(_token(request))
    selfservice.end_one_session(session, row)
    session.commit()
    if current:
        request.state.user = None
        response = redirect(links.path("page:home"))
        cookies.SESSION.delete(response, https=request.app.state.settings.is_https)
        return flash(request, response, N_("This session is ended. You are logged out."), "info")
    return flash(request, redirect(links.path("account:sessions")), N_("The session is ended."), "success")


@router.post("/sessions/end-others", name="account:end_other_sessions")
def end_other_sessions(request: Request, session: DbSession, user: CitizenUser) -> Response:
    ended = selfservice.end_other_sessions_of(session, user, current_token=_token(request))
    session.commit()
    return flash(request, redirect(links.path("account:sessions")),
                 N_("Your other sessions are ended ({n})."), "success", n=ended)
