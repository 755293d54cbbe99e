"""The site's addresses, built from the routes' names (`idea:detail`), never written by hand.

Every route is declared with a stable `name="domain:verb"`. Templates call `url(name, **params)`
(a global of app.web), routes redirect to `links.path(...)`, and code that has no request (the
notification and e-mail services, the demo seeder) uses the same function or the typed helpers
below. Moving a page is then one edit, in its route's decorator.

Paths are relative to the host, as pages link. Whatever leaves the site (e-mails, feeds, the
JSON API, exports) puts BASE_URL in front with `settings.absolute_url(path)`.

The index comes from the site's routers, so it needs no request and no application: `bind` is
called by `create_app`, and by the demo seeder, which writes notifications before any app runs.
The routes are the same in every app of a process, so binding again changes nothing.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from starlette.convertors import Convertor
from starlette.routing import NoMatchFound

Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


class _Route(NamedTuple):
    """What building a route's path needs, taken from the route Starlette compiled: its path
    with `{param}` holes, and the convertor of each parameter (which refuses a "/" in a value)."""

    path_format: str
    convertors: dict[str, Convertor[Any]]
    params: frozenset[str]


_routes: dict[str, _Route] = {}


def bind(routers: Iterable[APIRouter]) -> None:
    """Index the routes of `routers` by name. Raises ValueError if a route has no name of the
    form `domain:verb` or two routes share one (a link could then lead to the wrong page)."""
    index: dict[str, _Route] = {}
    for router in routers:
        for route in iter_route_contexts(router.routes):
            name, path_format = route.name or "", route.path_format or ""
            if ":" not in name:
                raise ValueError(f"the route {path_format} has no name of the form 'domain:verb': {name!r}")
            if name in index:
                raise ValueError(f"two routes are named {name!r}: {index[name].path_format} and {path_format}")
            convertors = dict(route.param_convertors)
            index[name] = _Route(path_format, convertors, frozenset(convertors))
    _routes.clear()
    _routes.update(index)


def path(name: str, /, *, _query: Query | None = None, _anchor: str = "", **params: Any) -> str:
    """The path of the route `name` with its path parameters, e.g.
    `path("idea:detail", idea_id=3, _anchor="vote")` -> "/ideas/3#vote".

    `_query` adds a query string (a mapping, or pairs for repeated keys), each value percent-
    encoded but for "/" (`?next=/ideas/3%23vote`); None values are left out. Raises KeyError for
    an unknown name and starlette.routing.NoMatchFound for missing or unexpected parameters.

    This is Starlette's `url_path_for` for the one route found by name in a dict. Asking the app
    (`request.app.url_path_for`) tries every route in turn, each refusing with an exception:
    measured a hundred times slower (0.6 ms a path), and a listing builds a hundred paths."""
    if not _routes:
        raise RuntimeError("links.bind() was not called: no route is known")
    try:
        route = _routes[name]
    except KeyError:
        raise KeyError(f"no route is named {name!r}") from None
    if params.keys() != route.params:
        raise NoMatchFound(name, params)
    built = route.path_format.format_map(
        {key: route.convertors[key].to_string(value) for key, value in params.items()}
    ) if params else route.path_format
    if _query:
        pairs = _query.items() if isinstance(_query, Mapping) else _query
        kept = [(key, value) for key, value in pairs if value is not None]
        if kept:
            built += "?" + urlencode(kept, doseq=True, safe="/", quote_via=quote)
    return built + (f"#{_anchor}" if _anchor else "")


def idea_path(idea_id: int, anchor: str = "") -> str:
    """An idea's public page, optionally at an anchor ("vote", "comments", "answer")."""
    return path("idea:detail", idea_id=idea_id, _anchor=anchor)


def comment_path(idea_id: int, comment_id: int) -> str:
    """A comment, where it is shown: on its idea's page."""
    return idea_path(idea_id, f"comment-{comment_id}")


def photo_path(idea_id: int, photo_id: int, variant: str) -> str:
    """One size of an idea's photo ("thumb", "card", "display": app.media.images)."""
    return path("idea:photo", idea_id=idea_id, photo_id=photo_id, variant=variant)


def call_path(slug: str) -> str:
    """A call for projects' public page."""
    return path("call:detail", slug=slug)
