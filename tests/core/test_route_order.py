"""The order of app.main.ROUTERS is chosen for speed (the most requested first: each request
tries the routes in turn until one matches, about 1.5 us each), never for meaning: no route
takes the address of another, whatever the order."""

import re

from fastapi.routing import iter_route_contexts

from tests.support import WebClient

PARAM = re.compile(r"{[^}]+}")


def test_every_route_answers_its_own_addresses(client: WebClient) -> None:
    contexts = [c for c in iter_route_contexts(client.app.routes) if c.methods and c.path_format]
    assert len(contexts) > 200
    taken = []
    for context in contexts:
        # An address of this route: every parameter "1" (ids, slugs, sizes and tokens alike).
        address = PARAM.sub("1", context.path_format)
        for method in context.methods:
            first = next(c for c in contexts
                         if method in c.methods and c.path_regex.match(address))
            if first.name != context.name:
                taken.append(f"{method} {address}: {context.name} taken by {first.name}")
    assert taken == []

