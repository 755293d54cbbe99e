"""The administrators' identity page, and what pages and browsers load from the identity: the
brand stylesheet, the logo, favicon.ico, the apple-touch-icon and the web app manifest.

Every generated file is addressed with a version (`?v=`, the logo's or the stylesheet's hash)
and cached for a year as immutable: a new logo or new colours give new URLs, which pages
render at once. A request for another version (an old page) gets the current file with a
short cache instead."""

import json
from collections import OrderedDict
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.datastructures import UploadFile as ReceivedFile

from app import links
from app.account.models import User
from app.authz import Action
from app.deps import AppSettings, DbSession, allowed
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, current_language, gettext
from app.identity import logo, service
from app.pagecache import memo
from app.settings import Settings
from app.web import draws_no_page, flash, redirect, render

router = APIRouter(include_in_schema=False)
IdentityEditor = Annotated[User, allowed(Action.identity_edit)]
Upload = Annotated[UploadFile | str | None, File()]

YEAR = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
_ICONS: "OrderedDict[tuple[str, str], bytes]" = OrderedDict()  # (logo version, kind) -> bytes
_ICONS_KEPT = 16


def read_identity(request: Request, session: Session, _user: User | None) -> None:
    """A request reader (app.account.sessions.RequestReader), run before the CSRF check (whose
    refusal is a page too): the city's identity on request.state for app.web.render
    (service.for_request). One primary-key read in the request's own session (templates never
    open one), remembered while nothing is written (app.pagecache.memo); the settings' identity
    when the database cannot answer (the health check says so on its own). Not for a write
    answered without a page (a support, by a script or a form: app.web.draws_no_page):
    service.for_request reads it then if a page is drawn after all."""
    if draws_no_page(request):
        return
    _read_identity(request, session, request.app.state.settings)


def _read_identity(request: Request, session: Session, settings: Settings) -> None:
    try:
        request.state.identity = memo.remembered(session, "identity", (), lambda: service.current(session, settings))
    except SQLAlchemyError:
        with suppress(SQLAlchemyError):
            session.rollback()
        request.state.identity = service.default_identity(settings)


def _cache_control(asked: str, current: str) -> str:
    return YEAR if asked == current else SHORT


def _icon(session: DbSession, kind: str) -> tuple[str, bytes]:
    """(logo version, bytes) of icon `kind` drawn from the current logo, kept per version (a new
    logo has a new version, so nothing stale is ever served)."""
    version, png = service.logo_png(session)
    key = (version, kind)
    if key not in _ICONS:
        if kind == "favicon":
            data = logo.favicon_ico(png)
        elif kind == "apple":
            data = logo.icon_png(png, 180, opaque=True)
        elif kind == "maskable":
            data = logo.icon_png(png, 512, maskable=True)
        elif kind == "logo":
            data = png
        else:
            data = logo.icon_png(png, int(kind))
        _ICONS[key] = data
        while len(_ICONS) > _ICONS_KEPT:
            _ICONS.popitem(last=False)
    return version, _ICONS[key]


@router.get("/brand.css", name="identity:css")
def brand_css(session: DbSession, settings: AppSettings, v: str = "") -> Response:
    """The brand colours as CSS custom properties (see app.identity.service.brand_css)."""
    identity = service.current(session, settings)
    return Response(identity.css, media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": _cache_control(v, identity.css_version)})


@router.get("/brand/logo.png", name="identity:logo")
def logo_file(session: DbSession, v: str = "") -> Response:
    version, data = _icon(session, "logo")
    return Response(data, media_type="image/png", headers={"Cache-Control": _cache_control(v, version)})


@router.get("/brand/icon-{size}.png", name="identity:icon")
def icon_file(session: DbSession, size: int, v: str = "") -> Response:
    """The installable app's square icons, 192 and 512 px (the manifest's)."""
    if size not in (192, 512):
        raise NotFound()
    version, data = _icon(session, str(size))
    return Response(data, media_type="image/png", headers={"Cache-Control": _cache_control(v, version)})


@router.get("/brand/maskable-icon.png", name="identity:maskable_icon")
def maskable_icon(session: DbSession, v: str = "") -> Response:
    """The manifest's maskable icon (512 px): the logo inside the safe zone, on white."""
    version, data = _icon(session, "maskable")
    return Response(data, media_type="image/png", headers={"Cache-Control": _cache_control(v, version)})


@router.get("/apple-touch-icon.png", name="identity:apple_touch_icon")
def apple_touch_icon(session: DbSession, v: str = "") -> Response:
    version, data = _icon(session, "apple")
    return Response(data, media_type="image/png", headers={"Cache-Control": _cache_control(v, version)})


@router.get("/favicon.ico", name="page:favicon")
def favicon(session: DbSession, v: str = "") -> Response:
    """favicon.ico from the logo, for the browsers and tools that ask the root for it."""
    version, data = _icon(session, "favicon")
    return Response(data, media_type="image/x-icon",
                    headers={"Cache-Control": _cache_control(v, version) if v else "public, max-age=3600"})


@router.get("/manifest.webmanifest", name="identity:manifest")
def manifest(session: DbSession, settings: AppSettings) -> Response:
    """The web app manifest: the platform's name, the logo's icons and the primary colour."""
    identity = service.current(session, settings)
    version = identity.icon_version
    short = identity.platform_name if len(identity.platform_name) <= 12 else identity.platform_name.split()[0][:12]
    icons: list[dict[str, str]] = [
        {"src": f"{links.path('identity:icon', size=192)}?v={version}", "sizes": "192x192", "type": "image/png"},
        {"src": f"{links.path('identity:icon', size=512)}?v={version}", "sizes": "512x512", "type": "image/png"},
    ]
    maskable = (f"{links.path('identity:maskable_icon')}?v={version}" if identity.has_logo
                else "/static/img/icon-512-maskable.png")
    icons.append({"src": maskable, "sizes": "512x512", "type": "image/png", "purpose": "maskable"})
    body = {
        "name": identity.platform_name, "short_name": short,
        "description": gettext("Propose, support and discuss ideas for your city."),
        "lang": current_language(), "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": identity.primary,
        "icons": icons,
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


# --- The administrators' page --------------------------------------------------------------

def _form_page(request: Request, identity: service.Identity, form: service.IdentityForm,
               errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    return render(request, "admin/identity.html", {
        "form": form, "errors": errors, "saved": identity, "networks": service.NETWORKS}, status_code=status_code)


@router.get("/admin/identity", name="admin:identity")
def edit_form(request: Request, session: DbSession, settings: AppSettings, _user: IdentityEditor) -> HTMLResponse:
    identity = service.current(session, settings)
    return _form_page(request, identity, service.IdentityForm.of(identity), {})


def _read_logo(upload: UploadFile | str | None, limit: int) -> bytes | None:
    if not isinstance(upload, ReceivedFile) or not upload.filename:
        return None
    upload.file.seek(0)
    return upload.file.read(limit + 1) or b""


@router.post("/admin/identity", name="admin:identity_save")
def save(request: Request, session: DbSession, settings: AppSettings, user: IdentityEditor,
         platform_name: Annotated[str, Form()] = "", city_name: Annotated[str, Form()] = "",
         contact_email: Annotated[str, Form()] = "", primary_color: Annotated[str, Form()] = "",
         accent_color: Annotated[str, Form()] = "", remove_logo: Annotated[str, Form()] = "",
         footer_label: Annotated[list[str] | None, Form()] = None,
         footer_url: Annotated[list[str] | None, Form()] = None,
         social_mastodon: Annotated[str, Form()] = "", social_bluesky: Annotated[str, Form()] = "",
         social_facebook: Annotated[str, Form()] = "", social_instagram: Annotated[str, Form()] = "",
         social_youtube: Annotated[str, Form()] = "", social_linkedin: Annotated[str, Form()] = "",
         social_peertube: Annotated[str, Form()] = "", logo_file: Upload = None) -> Response:
    """Save the identity; a refused field gives the form back (422) with its message and
    nothing saved."""
    labels = (footer_label or [])[:service.FOOTER_LINKS]
    urls = (footer_url or [])[:service.FOOTER_LINKS]
    labels += [""] * (service.FOOTER_LINKS - len(labels))
    urls += [""] * (service.FOOTER_LINKS - len(urls))
    social = {"mastodon": social_mastodon, "bluesky": social_bluesky, "facebook": social_facebook,
              "instagram": social_instagram, "youtube": social_youtube, "linkedin": social_linkedin,
              "peertube": social_peertube}
    form = service.IdentityForm(
        platform_name=platform_name, city_name=city_name, contact_email=contact_email,
        primary_color=primary_color, accent_color=accent_color, footer_links=list(zip(labels, urls, strict=True)),
        social_links=social, logo=_read_logo(logo_file, settings.max_upload_bytes), remove_logo=bool(remove_logo))
    try:
        service.save(session, settings, actor=user, form=form)
    except ValidationFailed as exc:
        session.rollback()
        form.logo = None
        return _form_page(request, service.current(session, settings), form, exc.errors, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("admin:identity")), N_("The city's identity is saved."), "success")
