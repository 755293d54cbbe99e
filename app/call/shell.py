"""A call's page as a logged-in citizen sees it, kept per process without the citizen (issue 14).

The page cache never keeps a logged-in view (app.pagecache); a citizen's list was rendered by
Jinja on every request, a third of its time. Yet most citizens see the same page: the same
header (not staff, e-mail address confirmed, no unread notification), the same rules block, the
same cards in the same state. So the page is kept as a **shell** under its **viewer shape** —
everything on it that depends on who views it, but their name and form token — and those two
are put in each request, as app.call.cards does for the token of a list of cards.

The shape (`viewer_shape`, built by the route) is: the header's role flags (`moderation.access`,
`admin.access`), whether the e-mail address is confirmed, who may take part and whether the
viewer does, whether paper intake is offered to them, the supports they have left in each
bucket, and each card's state (app.call.cards.CardState). The key adds the exact unread count (its
plural and badge change the markup), the address (path and query), the language, the filters as
the route read them (a random order's seed may come from a cookie) and what the clock changes
(phase, time left, the phase's end), and the server's address (the share preview's links).

Why a shell holds no one's name, address or token: it is rendered with a stand-in for the viewer
(`ShellViewer`) that has only the name's slot and whether the address is confirmed, a request
that has only its address, supports that say only what is left in each bucket, a `can` that
answers the two role checks of the shape, the token's slot, and, for macros imported without
context, globals that refuse role checks and one-time form tokens (app.web.SHARED_RENDER); a
template that asked for anything more of the viewer makes the render fail, never a page that
shows it to the next citizen (tests/call/test_page_shells.py). A page with a flash message, or listing the
viewer's own ideas, is never kept.
Why it is exact: kept under the page generation read before the page's data (app.call.cards),
REGION_TTL_SECONDS at most, in a store bounded in bytes (app.call.cards.SHELLS).
"""

import sys
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app import clock
from app.call import cards
from app.i18n import current_language
from app.pagecache import tracking
from app.web import SHARED_RENDER, SharedRenderAsked, env, page_context, respond

TEMPLATE = "call/detail.html"
# Where the shell takes the viewer's name: printed raw in its place, and unlike anything a page
# prints of its data for the reasons given at app.call.cards.CSRF_SLOT (a NUL, and a "<").
NAME_SLOT = Markup("<\x00name\x00>")  # noqa: S704 - a constant of ours
# The role checks the layout makes of its viewer (templates/base.html): in the shape.
ROLE_CHECKS = ("moderation.access", "admin.access")


class ViewerAsked(SharedRenderAsked):
    """A template asked the shell's stand-ins for more than the viewer shape holds."""


def _refuse(what: str) -> ViewerAsked:
    return ViewerAsked(f"a kept page asked for {what}, which the viewer shape does not hold")


class ShellViewer:
    """The viewer as a shell is rendered with: their name's slot and whether their e-mail address
    is confirmed (in the shape); anything else asked of it raises ViewerAsked."""

    __slots__ = ("display_name", "email_verified_at")

    def __init__(self, email_confirmed: bool) -> None:
        self.display_name = NAME_SLOT
        self.email_verified_at = True if email_confirmed else None

    def __getattr__(self, name: str) -> Any:
        raise _refuse(f"the viewer's {name!r}")


class ShellAllowance:
    """The viewer's supports as a shell sees them: only what they have left in each bucket (in
    the shape), as app.vote.allowance.Allowance.left answers it."""

    __slots__ = ("_left",)

    def __init__(self, left: tuple[tuple[int | None, int], ...]) -> None:
        self._left = dict(left)

    def left(self, _call: Any, category_id: int | None) -> int:
        if category_id not in self._left:
            raise _refuse(f"the supports left in bucket {category_id!r}")
        return self._left[category_id]

    def __getattr__(self, name: str) -> Any:
        raise _refuse(f"the viewer's supports' {name!r}")


class _ShellURL(NamedTuple):
    path: str
    query: str


class ShellRequest:
    """The request as a shell sees it: its address (in the key); not its state (the viewer),
    headers or cookies."""

    __slots__ = ("url",)

    def __init__(self, path: str, query: str) -> None:
        self.url = _ShellURL(path, query)

    def __getattr__(self, name: str) -> Any:
        raise _refuse(f"the request's {name!r}")


class ViewerShape(NamedTuple):
    """What the call page shows of its viewer but their name and token (`viewer_shape`)."""

    roles: tuple[bool, ...]  # can(viewer, check) for each of ROLE_CHECKS
    email_confirmed: bool
    taking_part: tuple[Hashable, ...]  # app.residents.service.call_access, as a tuple
    resident_rule_met: bool
    intake_offered: bool
    left: tuple[tuple[int | None, int], ...]  # (theme id or None for the call, supports left)
    card_states: tuple[tuple[int, cards.CardState], ...]  # each card's state, in the page's order


def viewer_shape(can: Callable[..., bool], user: Any, context: dict[str, Any],
                 states: dict[int, cards.CardState], left: tuple[tuple[int | None, int], ...]) -> ViewerShape | None:
    """The shape of `user` (an app.account.models.User) on the call page, or None when their page
    is not to be kept: when it lists their own ideas in the call (titles of ideas not yet
    published among them, which no one else sees and which should not outlive them in memory).
    `can` is app.authz.can; `context` the route's; `states` the cards' (idea id -> CardState);
    `left` the supports left in each bucket the rules block shows ((theme id or None, count))."""
    if context["own_ideas"]:
        return None
    taking_part = context["taking_part"]
    return ViewerShape(
        tuple(bool(can(user, check)) for check in ROLE_CHECKS), user.email_verified_at is not None,
        (taking_part["submit"], taking_part["vote"], taking_part["residents_only"], taking_part["resident"],
         tuple(taking_part["providers"])),
        bool(context["resident_rule_met"]), bool(context["intake_offered"]), left, tuple(states.items()))


def render(request: Request, session: Session, context: dict[str, Any], *, page: tuple[Hashable, ...],
           shape: ViewerShape | None) -> HTMLResponse:
    """The call page for `request`: from the shell kept for its `page` (the route's key of the
    list page: call, phase, filters, page number) and the viewer's `shape` (`viewer_shape`), made
    and kept when there is none; rendered as any page (app.web.render) for an anonymous visitor
    (`shape` None), with a flash message to show, or on a database whose writes are untracked.
    Raises ViewerAsked (an app.web.SharedRenderAsked) when the page's templates ask for more of
    the viewer than the shape holds: a defect of a template, never shown to another viewer."""
    ctx = page_context(request, context)
    user = ctx["current_user"]
    generation = tracking.generation_of(session)  # read before the page's data (app.call.cards)
    if user is None or shape is None or ctx["flashes"] or generation is None:
        return respond(request, TEMPLATE, ctx)
    key = (session.info.get(tracking.DATABASE_KEY), ctx["settings"].base_url, current_language(),
           request.url.path, request.url.query,
           page, ctx["phase"], str(ctx["time_left"]), str(ctx["phase_end"]), ctx["unread_notifications"], shape)
    now = clock.seconds()
    found = cards.SHELLS.get(key)
    if found is not None and found[0][0] == generation and now - found[0][1] < cards.REGION_TTL_SECONDS:
        html = found[1]
    else:
        html = _render_shell(ctx, shape)
        cards.SHELLS.put(key, (generation, now), html, sys.getsizeof(html))
    # The name as the template would print it; the token is hexadecimal, escaped all the same.
    page_html = str(html).replace(str(NAME_SLOT), str(escape(user.display_name)))
    return respond(request, TEMPLATE, ctx, html=page_html.replace(str(cards.CSRF_SLOT), str(escape(ctx["csrf_token"]))))


def _render_shell(ctx: dict[str, Any], shape: ViewerShape) -> Markup:
    """The page rendered from `ctx` with the viewer, their request, supports and roles replaced by
    stand-ins that hold only `shape` (a template asking for more raises ViewerAsked)."""
    roles = dict(zip(ROLE_CHECKS, shape.roles, strict=True))

    def can(_user: Any, action: str, _obj: Any = None) -> bool:
        if action not in roles:
            raise _refuse(f"the role check {action!r}")
        return roles[action]

    request = ctx["request"]
    # The context's own values shadow the globals; a macro imported without context sees only
    # the globals, which refuse role checks and one-time form tokens meanwhile (SHARED_RENDER).
    shared = SHARED_RENDER.set(True)
    try:
        # An .html template: autoescaped (app.web).
        return Markup(env.get_template(TEMPLATE).render({  # noqa: S704 - escaped by the template
            **ctx, "request": ShellRequest(request.url.path, request.url.query),
            "current_user": ShellViewer(shape.email_confirmed), "csrf_token": cards.CSRF_SLOT, "can": can,
            "allowance": ShellAllowance(shape.left)}))
    finally:
        SHARED_RENDER.reset(shared)
