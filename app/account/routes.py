"""Account pages: register, verify e-mail, log in and out, reset a password, profile."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlmodel import Session

from app import cookies, links
from app.account import export, identities, privacy, service
from app.account.models import User
from app.account.sessions import end_session
from app.clock import utcnow
from app.deps import AppSettings, CitizenUser, CurrentUser, DbSession
from app.errors import Conflict, RateLimited, ValidationFailed
from app.i18n import N_
from app.residents import service as residents
from app.security import safe_next
from app.settings import LANGUAGES, Settings
from app.submission import service as submission
from app.submission.web import FormToken
from app.web import flash, redirect, render

router = APIRouter(prefix="/account", tags=["account"], include_in_schema=False)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_session_cookie(settings: Settings, response: Response, token: str) -> None:
    cookies.SESSION.set(response, token, https=settings.is_https, max_age=settings.session_days * 86400)


def _https(request: Request) -> bool:
    return bool(request.app.state.settings.is_https)


@router.get("/register", name="account:register")
def register_form(request: Request) -> HTMLResponse:
    return render(request, "account/register.html", {"values": {}, "errors": {}})


@router.post("/register", name="account:create")
def register(request: Request, session: DbSession, settings: AppSettings,
             email: Annotated[str, Form(max_length=300)] = "", display_name: Annotated[str, Form(max_length=200)] = "",
             password: Annotated[str, Form(max_length=300)] = "", form_token: FormToken = "") -> Response:
    values = {"email": email, "display_name": display_name}

    def check_email() -> Response:
        return render(request, "account/check_email.html", {"email": service.normalise_email(email)})

    # Sent twice (a double tap): one account, and the same page, not "this address is taken".
    # The password is not part of what identifies the submission: it is never stored, hashed or not.
    sent = submission.claim(session, token=form_token, form="account:register", user_id=None,
                            content=[email, display_name])
    if sent.earlier is not None:
        return check_email()
    try:
        service.register(session, settings, email=email, display_name=display_name,
                         password=password, language=request.state.language, client_ip=_client_ip(request))
    except ValidationFailed as exc:
        return render(request, "account/register.html", {"values": values, "errors": exc.errors},
                      status_code=422)
    except RateLimited as exc:  # too many accounts from this address: the form stays filled in
        return render(request, "account/register.html", {"values": values, "errors": {"form": exc.message}},
                      status_code=429, headers={"Retry-After": str(exc.retry_after)})
    submission.settle(session, sent, location=links.path("account:register"))
    session.commit()
    return check_email()


@router.get("/verify", name="account:verify")
def verify_form(request: Request, session: DbSession, token: str = "") -> HTMLResponse:
    # Opening the link does not verify: mail scanners follow links. The button below does.
    valid = service.peek_token(session, token, service.TokenPurpose.verify)
    return render(request, "account/verify.html", {"token": token, "valid": valid},
                  status_code=200 if valid else 410)


@router.post("/verify", name="account:confirm")
def verify(request: Request, session: DbSession, user: CurrentUser,
           token: Annotated[str, Form(max_length=200)] = "") -> Response:
    verified = service.verify_email(session, token)
    if verified is None:
        return render(request, "account/verify.html", {"token": "", "valid": False}, status_code=410)
    session.commit()
    target = links.path("page:home") if user else links.path("account:login")
    return flash(request, redirect(target), N_("Your e-mail address is confirmed. Thank you!"), "success")


@router.post("/verify/resend", name="account:resend_verification")
def resend_verification(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser) -> Response:
    if user.email_verified_at is None:
        service.send_verification(session, settings, user)
        session.commit()
    return flash(request, redirect(links.path("account:profile")),
                 N_("We sent you a new confirmation link."), "success")


@router.get("/login", name="account:login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "account/login.html", {"values": {}, "errors": {}, "next": safe_next(next)})


@router.post("/login", name="account:authenticate")
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    try:
        result = service.login(session, settings, email=email, password=password,
                               user_agent=request.headers.get("user-agent", ""))
    except ValidationFailed as exc:
        session.commit()  # keep the failed attempt: it counts towards the rate limit
        return render(request, "account/login.html",
                      {"values": {"email": email}, "errors": exc.errors, "next": target}, status_code=422)
    # Rotate: whatever session this browser had before is ended.
    old = cookies.SESSION.read(request)
    if old:
        end_session(session, old)
    session.commit()
    response = redirect(target)
    _set_session_cookie(settings, response, result.session_token)
    return flash(request, response, N_("Welcome, {name}!"), "success", name=result.user.display_name)


@router.post("/logout", name="account:logout")
def logout(request: Request, session: DbSession) -> Response:
    token = cookies.SESSION.read(request)
    if token:
        end_session(session, token)
        session.commit()
    response = redirect(links.path("page:home"))
    cookies.SESSION.delete(response, https=_https(request))
    return flash(request, response, N_("You are logged out."), "info")


@router.get("/password/forgot", name="account:forgot")
def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "account/forgot.html", {"values": {}, "errors": {}, "sent": False})


@router.post("/password/forgot", name="account:send_reset")
def forgot(request: Request, session: DbSession, settings: AppSettings,
           email: Annotated[str, Form(max_length=300)] = "") -> Response:
    service.request_password_reset(session, settings, email=email, client_ip=_client_ip(request))
    session.commit()
    return render(request, "account/forgot.html", {"values": {"email": email}, "errors": {}, "sent": True})


@router.get("/password/reset", name="account:reset")
def reset_form(request: Request, session: DbSession, token: str = "") -> HTMLResponse:
    valid = service.peek_token(session, token, service.TokenPurpose.reset)
    return render(request, "account/reset.html", {"token": token, "valid": valid, "errors": {}},
                  status_code=200 if valid else 410)


@router.post("/password/reset", name="account:set_password")
def reset(request: Request, session: DbSession, token: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=300)] = "") -> Response:
    try:
        service.reset_password(session, token=token, password=password)
    except ValidationFailed as exc:
        valid = "token" not in exc.errors
        return render(request, "account/reset.html", {"token": token if valid else "", "valid": valid,
                                                      "errors": exc.errors}, status_code=422)
    session.commit()
    response = redirect(links.path("account:login"))
    cookies.SESSION.delete(response, https=_https(request))
    return flash(request, response, N_("Your password has been changed. You can log in now."), "success")


def _profile_context(session: DbSession, settings: Settings, user: User) -> dict[str, Any]:
    """What the account page shows besides the form: the person's linked identities."""
    assert user.id is not None
    linked = identities.for_user(session, user.id)
    return {"identities": linked, "linked_keys": {i.provider_key for i in linked},
            "provider_names": {p.key: p.name for p in settings.oidc_providers},
            "residency": residents.account_status(session, settings, user)}


@router.get("", name="account:profile")
def profile(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser) -> HTMLResponse:
    return render(request, "account/profile.html",
                  {"values": {}, "errors": {}, **_profile_context(session, settings, user)})


@router.post("", name="account:update")
def update_profile(request: Request, session: DbSession, user: CitizenUser,
                   display_name: Annotated[str, Form(max_length=200)] = "",
                   language: Annotated[str, Form(max_length=5)] = "fr") -> Response:
    try:
        service.update_profile(session, user, display_name=display_name, language=language)
    except ValidationFailed as exc:
        return render(request, "account/profile.html",
                      {"values": {"display_name": display_name}, "errors": exc.errors,
                       **_profile_context(session, request.app.state.settings, user)}, status_code=422)
    session.commit()
    response = redirect(links.path("account:profile"))
    if language in LANGUAGES:
        cookies.LANGUAGE.set(response, language, https=_https(request))
    return flash(request, response, N_("Your profile is saved."), "success")


# Personal data (app.account.privacy) -----------------------------------------------------------

@router.post("/export", name="account:export")
def export_data(session: DbSession, settings: AppSettings, user: CitizenUser) -> Response:
    """The person's data as a ZIP (app.account.export), built now for them and streamed: it is
    stored nowhere and no address leads to it."""
    archive = export.build_archive(session, settings, user)
    filename = f"reinventons-{utcnow().date().isoformat()}.zip"
    return StreamingResponse(export.chunks(archive), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


def _delete_page(request: Request, session: Session, settings: Settings, user: User,
                 errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    """The deletion form: the password for an account that has one, otherwise a button for each
    provider whose identity is linked to the account (a fresh sign-in there confirms)."""
    assert user.id is not None
    providers = [] if user.password_hash else [
        p for p in (settings.oidc_provider(i.provider_key) for i in identities.for_user(session, user.id))
        if p is not None]
    return render(request, "account/delete.html", {"errors": errors, "has_password": bool(user.password_hash),
                                                   "confirm_providers": providers}, status_code=status_code)


@router.get("/delete", name="account:delete")
def delete_form(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser) -> HTMLResponse:
    return _delete_page(request, session, settings, user, {})


@router.post("/delete", name="account:erase")
def delete_account(request: Request, session: DbSession, settings: AppSettings, user: CitizenUser,
                   password: Annotated[str, Form(max_length=300)] = "") -> Response:
    try:
        privacy.delete_account(session, settings, user, password=password)
    except ValidationFailed as exc:
        session.commit()  # keep the failed attempt: it counts towards the rate limit
        return _delete_page(request, session, settings, user, exc.errors, status_code=422)
    except Conflict as exc:
        session.rollback()
        return _delete_page(request, session, settings, user, {"password": exc.message}, status_code=409)
    session.commit()
    request.state.user = None
    response = redirect(links.path("page:home"))
    cookies.SESSION.delete(response, https=_https(request))
    return flash(request, response, privacy.DELETED, "info")
