"""The application as `reinventons serve` runs it, plus the floor: `/__bench/floor` answers the
bytes of the file named by REINVENTONS_BENCH_FLOOR (a page saved by the benchmark) straight from
the ASGI server, before any middleware, query or template. A page's requests per second divided
by the floor's says how much the application costs over the bare server on the same machine.

Started by the benchmark as `uvicorn bench.server:create_app --factory --workers N`."""

import os
from pathlib import Path

from starlette.types import Receive, Scope, Send

from app.main import serve_app

FLOOR_PATH = "/__bench/floor"


def create_app():  # type: ignore[no-untyped-def]
    """The platform's ASGI application wrapped so that FLOOR_PATH answers the saved bytes."""
    platform = serve_app()
    floor: list[bytes] = []  # read at the first request: the benchmark saves the page once the server runs

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == FLOOR_PATH:
            if not floor:
                floor.append(Path(os.environ["REINVENTONS_BENCH_FLOOR"]).read_bytes())
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(floor[0])).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": floor[0]})
            return
        await platform(scope, receive, send)

    return app
