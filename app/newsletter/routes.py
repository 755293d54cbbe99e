"""Newsletter pages: the subscription form (with a signed-in person's own subscription), the
confirmation link's page and its button, and the unsubscribe link's page with its one-click
variant for mailbox providers (RFC 8058), which works without cookies."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import links, security
from app.account.service import normalise_email
from app.deps import AppSettings, CitizenUser, CurrentUser, DbSession
from app.errors import RateLimited, ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_, current_language
from app.newsletter import service
from app.newsletter.models import NewsletterSubscription, SubscriptionStatus
from app.security import ONE_CLICK_FIELD, ONE_CLICK_VALUE
from app.settings import LANGUAGES
from app.web import flash, redirect, render

router = APIRouter(prefix="/newsletter", tags=["newsletter"], include_in_schema=False)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _owns_address(user: CurrentUser) -> bool:
    """Whether `user` proved their account's address is theirs: only then do they see and
    manage its subscription (anyone can open an account with another person's address)."""
    return user is not None and user.email_verified_at is not None


def _form_page(request: Request, session: DbSession, user: CurrentUser, *, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, status_code: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    mine: NewsletterSubscription | None = None
    if _owns_address(user):
        assert user is not None
        mine = service.find(session, user.email)
        if mine is not None and mine.status == SubscriptionStatus.unsubscribed:
            mine = None
    shown = values or {"email": user.email if user is not None else "",
                       "language": user.language if user is not None else current_language()}
    return render(request, "newsletter/subscribe.html", {
        "values": shown, "errors": errors or {}, "mine": mine,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    }, status_code=status_code, headers=headers)


@router.get("", name="newsletter:subscribe_form")
def subscribe_form(request: Request, session: DbSession, user: CurrentUser) -> HTMLResponse:
    return _form_page(request, session, user)


@router.post("", name="newsletter:subscribe")
def subscribe(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
              email: Annotated[str, Form(max_length=300)] = "",
              language: Annotated[str, Form(max_length=5)] = "") -> Response:
    values = {"email": email, "language": language}
    try:
        result = service.subscribe(session, settings, email=email, language=language,
                                   client_ip=_client_ip(request), user=user)
    except ValidationFailed as exc:
        return _form_page(request, session, user, values=values, errors=exc.errors, status_code=422)
    except RateLimited as exc:
        return _form_page(request, session, user, values=values, errors={"form": exc.message}, status_code=429,
                          headers={"Retry-After": str(exc.retry_after)})
    session.commit()
    if result.confirmed_now:
        return flash(request, redirect(links.path("newsletter:subscribe_form")),
                     N_("You are subscribed: you will receive the city's announcements by e-mail."), "success")
    # The same page whether the address was new, waiting for confirmation or already subscribed.
    return render(request, "newsletter/check_email.html", {"email": normalise_email(email)})


@router.post("/mine", name="newsletter:update_mine")
def update_mine(request: Request, session: DbSession, user: CitizenUser,
                action: Annotated[str, Form(max_length=20)] = "",
                language: Annotated[str, Form(max_length=5)] = "") -> Response:
    """A signed-in person's own subscription (their account's address, once confirmed): its
    language, or unsubscribe."""
    subscription = service.find(session, user.email, for_update=True) if _owns_address(user) else None
    back = redirect(links.path("newsletter:subscribe_form"))
    if subscription is None or subscription.status == SubscriptionStatus.unsubscribed:
        return flash(request, back, N_("This address is not subscribed."), "info")
    if action == "unsubscribe":
        service.stop(session, subscription)
        session.commit()
        return flash(request, back, N_("You are unsubscribed: you will no longer receive the announcements "
                                       "by e-mail."), "success")
    try:
        service.set_language(session, subscription, language)
    except ValidationFailed as exc:
        return _form_page(request, session, user, errors=exc.errors, status_code=422)
    session.commit()
    return flash(request, back, N_("The language of your e-mails is saved."), "success")


# Confirming -------------------------------------------------------------------------------------

def _confirm_page(request: Request, *, token: str = "", error: str = "", done: bool = False,
                  already: bool = False) -> HTMLResponse:
    return render(request, "newsletter/confirm.html",
                  {"token": token, "error": error, "done": done, "already": already},
                  status_code=400 if error else 200)


@router.get("/confirm/{token}", name="newsletter:confirm_form")
def confirm_form(request: Request, session: DbSession, settings: AppSettings, token: str) -> HTMLResponse:
    # Opening the link changes nothing (mail scanners follow links): the button does.
    try:
        subscription = service.pending_confirmation(session, settings, token)
    except ValidationFailed as exc:
        return _confirm_page(request, error=exc.errors["token"])
    return _confirm_page(request, token=token, already=subscription.status == SubscriptionStatus.confirmed)


@router.post("/confirm/{token}", name="newsletter:confirm")
def confirm(request: Request, session: DbSession, settings: AppSettings, token: str) -> HTMLResponse:
    try:
        service.confirm(session, settings, token)
    except ValidationFailed as exc:
        return _confirm_page(request, error=exc.errors["token"])
    session.commit()
    return _confirm_page(request, done=True)


# Unsubscribing ----------------------------------------------------------------------------------

def _unsubscribe_page(request: Request, token: str, *, valid: bool, done: bool = False) -> HTMLResponse:
    return render(request, "newsletter/unsubscribe.html", {"token": token if valid else "", "valid": valid,
                                                           "done": done}, status_code=200 if valid else 400)


def _genuine(request: Request, token: str) -> bool:
    return service.read_unsubscribe_token(request.app.state.settings, token) is not None


@router.get("/unsubscribe/{token}", name="newsletter:unsubscribe_form")
def unsubscribe_form(request: Request, token: str) -> HTMLResponse:
    return _unsubscribe_page(request, token, valid=_genuine(request, token))


@router.post("/unsubscribe/{token}", name="newsletter:unsubscribe")
def unsubscribe(request: Request, session: DbSession, settings: AppSettings, token: str) -> HTMLResponse:
    if not service.unsubscribe(session, settings, token):
        return _unsubscribe_page(request, token, valid=False)
    session.commit()
    return _unsubscribe_page(request, token, valid=True, done=True)


# One-click unsubscribe (RFC 8058): exempted from the CSRF check by name, for a request with a
# genuine token and exactly the one-click body (app.security.one_click_proof, see create_app).
ONE_CLICK_ROUTE = "newsletter:one_click"
one_click_proof = security.one_click_proof(_genuine)


@router.get("/unsubscribe/{token}/one-click", name="newsletter:one_click_page")
def one_click_form(request: Request, token: str) -> HTMLResponse:
    # A mail reader without RFC 8058 support may open the address: it shows the page with the button.
    return _unsubscribe_page(request, token, valid=_genuine(request, token))


@router.post("/unsubscribe/{token}/one-click", name=ONE_CLICK_ROUTE)
def one_click_unsubscribe(request: Request, session: DbSession, settings: AppSettings, token: str,
                          list_unsubscribe: Annotated[str, Form(alias=ONE_CLICK_FIELD, max_length=20)] = "",
                          ) -> HTMLResponse:
    if list_unsubscribe != ONE_CLICK_VALUE or not service.unsubscribe(session, settings, token):
        return _unsubscribe_page(request, token, valid=_genuine(request, token))  # nothing changed
    session.commit()
    return _unsubscribe_page(request, token, valid=True, done=True)
