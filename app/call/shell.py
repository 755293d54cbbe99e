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
bucket, their own ideas in the call (by id: a shell that lists them is only ever their author's),
and each card's state (app.call.cards.CardState). The key adds the exact unread count (its
plural and badge change the markup), the address (path and query), the language, the filters as
the route read them (a random order's seed may come from a cookie) and what the clock changes
(phase, time left, the phase's end).

Why a shell holds no one's name, address or token: it is rendered with a stand-in for the viewer
(`ShellViewer`) that has only the name's slot and whether the address is confirmed, a `can`
that answers the two role checks of the shape and nothing else, and the token's slot; a template
that asked for anything more of the viewer makes the render fail, never a page that shows it to
the next citizen (tests/call/test_page_shells.py). A page with a flash message is never kept.
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
from app.web import env, page_context, respond

TEMPLATE = "call/detail.html"
# Where the shell takes the viewer's name: printed raw in its place, and unlike anything a page
# prints of its data for the reasons given at app.call.cards.CSRF_SLOT (a NUL, and a "<").
NAME_SLOT = Markup("<\x00name\x00>")  # noqa: S704 - a constant of ours
# The role checks the layout makes of its viewer (templates/base.html): in the shape.
ROLE_CHECKS = ("moderation.access", "admin.access")


class ViewerAsked(Exception):
    """A template asked the shell's stand-in for more than the viewer shape holds."""


class ShellViewer:
    """The viewer as a shell is rendered with: their name's slot and whether their e-mail address
    is confirmed (in the shape); anything else asked of it raises ViewerAsked."""

    __slots__ = ("display_name", "email_verified_at")

    def __init__(self, email_confirmed: bool) -> None:
        self.display_name = NAME_SLOT
        self.email_verified_at = True if email_confirmed else None

    def __getattr__(self, name: str) -> Any:
        raise ViewerAsked(f"a kept page asked its viewer for {name!r}, which the viewer shape does not hold")


class ViewerShape(NamedTuple):
    """What the call page shows of its viewer but their name and token (`viewer_shape`)."""

    roles: tuple[bool, ...]  # can(viewer, check) for each of ROLE_CHECKS
    email_confirmed: bool
    taking_part: tuple[Hashable, ...]  # app.residents.service.call_access, as a tuple
    resident_rule_met: bool
    intake_offered: bool
    left: tuple[int, ...]  # the supports left in each bucket of the rules block, in its order
    own_ideas: tuple[tuple[Hashable, ...], ...]  # (id, status, title) of each
    card_states: tuple[tuple[int, cards.CardState], ...]  # each card's state, in the page's order


def viewer_shape(can: Callable[..., bool], user: Any, context: dict[str, Any],
                 states: dict[int, cards.CardState], left: tuple[int, ...]) -> ViewerShape:
    """The shape of `user` (an app.account.models.User) on the call page: `can` is app.authz.can;
    `context` the route's; `states` the cards' (idea id -> CardState); `left` the supports left
    in each bucket of the rules block, in its order."""
    taking_part = context["taking_part"]
    return ViewerShape(
        tuple(bool(can(user, check)) for check in ROLE_CHECKS), user.email_verified_at is not None,
        (taking_part["submit"], taking_part["vote"], taking_part["residents_only"], taking_part["resident"],
         tuple(taking_part["providers"])),
        bool(context["resident_rule_met"]), bool(context["intake_offered"]), left,
        tuple((idea.id, idea.status, idea.title) for idea in context["own_ideas"]), tuple(states.items()))


def render(request: Request, session: Session, context: dict[str, Any], *, page: tuple[Hashable, ...],
           shape: ViewerShape | None) -> HTMLResponse:
    """The call page for `request`: from the shell kept for its `page` (the route's key of the
    list page: call, phase, filters, page number) and the viewer's `shape` (`viewer_shape`), made
    and kept when there is none; rendered as any page (app.web.render) for an anonymous visitor
    (`shape` None), with a flash message to show, or on a database whose writes are untracked."""
    ctx = page_context(request, context)
    user = ctx["current_user"]
    generation = tracking.generation_of(session)  # read before the page's data (app.call.cards)
    if user is None or shape is None or ctx["flashes"] or generation is None:
        return respond(request, TEMPLATE, ctx)
    key = (session.info.get(tracking.DATABASE_KEY), current_language(), request.url.path, request.url.query,
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
    roles = dict(zip(ROLE_CHECKS, shape.roles, strict=True))

    def can(_user: Any, action: str, _obj: Any = None) -> bool:
        if action not in roles:
            raise ViewerAsked(f"a kept page checked {action!r}, which the viewer shape does not hold")
        return roles[action]

    def form_token() -> str:
        raise ViewerAsked("a kept page asked for a one-time form token, which would be shared")

    # An .html template: autoescaped (app.web). The context's own values shadow the globals.
    return Markup(env.get_template(TEMPLATE).render({  # noqa: S704 - escaped by the template
        **ctx, "current_user": ShellViewer(shape.email_confirmed), "csrf_token": cards.CSRF_SLOT, "can": can,
        "form_token": form_token}))
