"""Rendering: the Jinja2 environment, its globals, flash messages and the `render` helper."""

import json
import sys
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from app import contentlang, cookies, i18n, links
from app.authz import can
from app.idea.history import history_label
from app.identity import service as identity_service
from app.pagecache.lru import BoundedLRU
from app.richtext import richtext_filter
from app.security import csrf_token, safe_next
from app.settings import LANGUAGES
from app.share import tags as share_tags
from app.share import video
from app.submission.service import new_token

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
FLASH_COOKIE = cookies.FLASH.base  # its name over http; see app.cookies for https

@pass_context
def video_cards_filter(context: Context, rich_html: str) -> Markup:
    """`{{ idea.body_html | richtext | video_cards }}`: a paragraph holding only a video link
    becomes a link card (app.share.video.video_cards), with the page's PeerTube hosts."""
    return video.video_cards(rich_html, video.peertube_hosts(context.get("settings")))


# Parts of the layout every page of a language shows alike (the footer), by what they show.
LAYOUT_KEPT: BoundedLRU[None, Markup] = BoundedLRU(1024 * 1024)


def kept_layout(name: str, *key: Hashable, caller: Callable[[], str]) -> Markup:
    """`{% call kept_layout("footer", lang, identity, flag) %}...{% endcall %}`: the block's HTML
    made once per process for each `key`, which must name everything the block shows: its
    language, the city's identity (a frozen dataclass, compared by value) and any flag it
    tests. Nothing of the visitor may be in such a block (no user, token, flash or address
    beyond the flags given), and nothing that changes with the clock or the database but
    through `key`. Rendered by the page's own autoescaped template, so kept as Markup."""
    full_key = (name, *key)
    found = LAYOUT_KEPT.get(full_key)
    if found is not None:
        return found[1]
    html = Markup(caller())  # noqa: S704 - the block's own output, escaped by its template
    LAYOUT_KEPT.put(full_key, None, html, sys.getsizeof(html))
    return html


class SharedRenderAsked(Exception):
    """A page rendered to be shared by several viewers (`SHARED_RENDER`) asked the globals for
    something of one viewer."""


# Set while a page is rendered to be shared by several viewers (app.call.shell): the globals
# that answer for one viewer refuse then. The render's own context answers for the viewer shape
# it is kept under; only a macro imported without context reaches these.
SHARED_RENDER: ContextVar[bool] = ContextVar("shared_render", default=False)


def _for_one_viewer(function: Callable[..., Any], what: str) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if SHARED_RENDER.get():
            raise SharedRenderAsked(f"a page shared by several viewers asked for {what}")
        return function(*args, **kwargs)
    return guarded


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
env = templates.env
# Templates ship with the code and change only with a new release, which restarts the
# processes: no stat() of every template and include on every page.
env.auto_reload = False
# Pages, and the SVG charts drawn from templates, escape what they print; e-mails' .txt parts
# are plain text (app.mail), their HTML part is a page like any other.
env.autoescape = select_autoescape(("html", "htm", "xml", "svg"))
env.globals.update(
    _=i18n.gettext,
    ngettext=i18n.ngettext,
    can=_for_one_viewer(can, "a role check"),
    url=links.path,
    kept_layout=kept_layout,
    current_language=i18n.current_language,
    colon=i18n.colon,
    LANGUAGES=LANGUAGES,
    LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
    # A create form's one-time token: `forms.once()`.
    form_token=_for_one_viewer(new_token, "a one-time form token"),
    shown=contentlang.shown,  # staff-written content in the visitor's language: _macros/content.html
    translation_status=contentlang.status,  # field -> language -> FieldStatus, for editors
    content_language_labels=contentlang.LANGUAGE_LABELS,  # "French"... (msgids) by code
)
env.filters.update(
    richtext=richtext_filter,
    video_cards=video_cards_filter,
    datetime=i18n.format_datetime,
    date=i18n.format_date,
    number=i18n.format_number,
    # For <time datetime="...">: HTML allows at most 3 digits of a second's fraction.
    iso=lambda value: value.isoformat(timespec="seconds") if value else "",
    history_label=history_label,
)
env.trim_blocks = True
env.lstrip_blocks = True


def compile_templates() -> int:
    """Compile every template into the environment's cache now; returns how many. For a server
    process before it takes requests (app.main, `warm_up`): compiled at their first use, a
    page's templates were compiled by every request of a fresh process arriving before the
    first had finished (Jinja's cache does not make the others wait), 16 at once after a
    restart under load, each 50 to 300 ms of CPU. Raises jinja2.TemplateSyntaxError for a
    template that does not compile (then no process starts rather than one page failing)."""
    names = env.list_templates(filter_func=lambda name: not name.startswith("."))
    for name in names:
        env.get_template(name)
    return len(names)


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.resolved_secret_key, salt="flash")


def flash(request: Request, response: RedirectResponse, message: str, category: str = "info",
          **params: Any) -> RedirectResponse:
    """Queue a message (an English msgid, translated when shown) for the next page. Several
    calls on one response queue several messages (one cookie holds them all). The redirect's
    fragment (`#card-12`) goes with the message, so that the page can also show it where the
    visitor lands, not only at its top, out of sight (`anchor` in `render`'s flashes). A message
    with a number is an `i18n.Plural`, its count among `params`: "1 idea approved"."""
    https = request.app.state.settings.is_https
    earlier = getattr(request.state, "flashes_queued", None)
    if earlier is not None and earlier[0] is response:
        # This response already carries the cookie: replace it rather than add a second one.
        queued: list[dict[str, Any]] = earlier[1]
        prefix = cookies.FLASH.name(https).encode() + b"="
        response.raw_headers = [(k, v) for k, v in response.raw_headers
                                if not (k == b"set-cookie" and v.startswith(prefix))]
    else:
        queued = _read_flashes(request)
    entry: dict[str, Any] = {"c": category, "m": str(message), "p": params}
    if isinstance(message, i18n.Plural):  # the cookie holds JSON: the plural goes beside the msgid
        entry["pl"], entry["k"] = message.plural, message.counted
    fragment = urlsplit(response.headers.get("location", "")).fragment
    if fragment:
        entry["a"] = fragment
    queued.append(entry)
    request.state.flashes_queued = (response, queued)
    cookies.FLASH.set(response, _flash_serializer(request).dumps(queued), https=https)
    request.state.flashes_consumed = True
    return response


def _read_flashes(request: Request) -> list[dict[str, Any]]:
    raw = cookies.FLASH.read(request)
    if not raw or getattr(request.state, "flashes_consumed", False):
        return []
    try:
        data = _flash_serializer(request).loads(raw)
    except BadSignature:
        return []
    return data if isinstance(data, list) else []


def _flash_message(entry: dict[str, Any]) -> str:
    """The msgid of a queued flash entry (`flash`), a `i18n.Plural` again when it had one."""
    message = str(entry.get("m", ""))
    if "pl" in entry:
        return i18n.Plural(message, str(entry["pl"]), str(entry.get("k", "n")))
    return message


def redirect(url: str, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status_code)


def wants_json(request: Request) -> bool:
    """A request to the open data API (/api/...): every answer, errors included, is JSON."""
    return request.url.path.startswith("/api/")


def wants_script(request: Request) -> bool:
    """A page's script (fetch with `Accept: application/json` or `X-Requested-With`), which
    updates the page in place from a JSON answer instead of following a redirect."""
    return "application/json" in request.headers.get("accept", "") or "x-requested-with" in request.headers


_ANSWERS_WITHOUT_PAGE = "_reinventons_answers_without_page"  # an endpoint's attribute (`answers_without_page`)
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def answers_without_page(endpoint: Endpoint) -> Endpoint:
    """Mark a writing route (under its route decorator) answered without a page: a redirect for a
    form, JSON for a page's script, a page only when it is refused (`app.web_answers`). What
    only a page's header shows (the unread count, the city's identity) is then not read before
    it (`draws_no_page`). A form's support read both for nothing: 2 of its 8 statements on
    SQLite (issue 14)."""
    setattr(endpoint, _ANSWERS_WITHOUT_PAGE, True)
    return endpoint


def draws_no_page(request: Request) -> bool:
    """A writing request (app.db.is_write_request) from a page's script (`wants_script`), or to a
    route marked `answers_without_page`: answered with a redirect, JSON or an error page, so
    what only the header shows (the unread count) is not read before the route, and the city's
    identity only if a page is drawn after all (app.identity.service.for_request)."""
    from app.db import is_write_request  # app.db is below the web layer; imported where used

    if not is_write_request(request):
        return False
    return wants_script(request) or getattr(request.scope.get("endpoint"), _ANSWERS_WITHOUT_PAGE, False)


def _unread_count(request: Request) -> int:
    """The header's unread count: the one read with the request (app.notify.routes), or, when a
    write answered without a page skipped it (`draws_no_page`) and draws a page after all, read now in a
    short session of its own."""
    found = getattr(request.state, "unread_notifications", None)
    if found is not None:
        return int(found)
    user = getattr(request.state, "user", None)
    if not getattr(request.state, "unread_deferred", False) or user is None or user.id is None:
        return 0
    from app.notify.service import unread_count  # the notification domain sits above app.web

    with request.app.state.db.session() as session:
        request.state.unread_notifications = unread_count(session, user.id)
    return int(request.state.unread_notifications)


def lang_url(request: Request, code: str) -> str:
    """The current page in another language."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", code))
    # The path comes from the visitor: `//evil.example/x` (or `/%5Cevil.example`) must not
    # become a link to another site. Such a path gets the home page in that language.
    path = quote(safe_next(request.url.path), safe="/")
    return f"{path}?{urlencode(query)}"


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page `template` for `request`, with the layout's context (`page_context`) and the
    route's `context` over it."""
    return respond(request, template, page_context(request, context, status_code), status_code, headers)


def page_context(request: Request, context: dict[str, Any] | None = None,
                 status_code: int = 200) -> dict[str, Any]:
    """What every page's layout shows (the visitor, their form token, unread count and flash
    messages, the language, the city's identity, the share preview), with the route's `context`
    over it. Reads (consumes) the request's flash messages."""
    flashes = [
        {"category": f.get("c", "info"), "message": i18n.gettext(_flash_message(f), **f.get("p", {})),
         "anchor": str(f.get("a", ""))}
        for f in _read_flashes(request)
    ]
    identity = identity_service.for_request(request)
    ctx: dict[str, Any] = {
        "request": request,
        "current_user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        # Loaded with the current user (app.notify.routes.read_unread_count): templates never query.
        "unread_notifications": _unread_count(request),
        "flashes": flashes,
        "lang": i18n.current_language(),
        "lang_url": lambda code: lang_url(request, code),
        "settings": request.app.state.settings,
        # The city's identity: names in the title, header and footer, logo, brand stylesheet.
        # Read in the request's own session (app.identity.routes.read_identity).
        "identity": identity,
        # The page's share preview (Open Graph tags in the layout): the site's own unless the
        # route gives one (then not made here), or None to have none (a private idea); error
        # pages have none.
        "share": share_tags.site_preview(request.app.state.settings, request.url.path, identity.platform_name)
        if status_code < 400 and "share" not in (context or {}) else None,
    }
    ctx.update(context or {})
    return ctx


def respond(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200,
            headers: dict[str, str] | None = None, html: str | None = None) -> HTMLResponse:
    """The answer with the page `template` rendered from `ctx` (`page_context`), or with `html`
    when the page was made otherwise (app.call.shell): not stored by any cache when it shows a
    logged-in person (`no-store`), the flash messages it showed forgotten."""
    response: HTMLResponse
    if html is None:
        response = templates.TemplateResponse(request, template, ctx, status_code=status_code, headers=headers)
    else:
        response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("cache-control", "no-store" if ctx["current_user"] else "no-cache")
    if cookies.FLASH.read(request) and not getattr(request.state, "flashes_consumed", False):
        cookies.FLASH.delete(response, https=request.app.state.settings.is_https)
    return response


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
