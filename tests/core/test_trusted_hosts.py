"""The host check remembers the Host headers it let through (app.security.TrustedHostsMiddleware):
what it answers must stay Starlette's answer for every request, before and after."""


from starlette.types import Message, Receive, Scope, Send

from app.security import TrustedHostsMiddleware
from tests.support import run_coroutine


async def _page(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"the page"})


def _status(app: TrustedHostsMiddleware, *hosts: bytes) -> tuple[int, dict[bytes, bytes]]:
    """The status and headers answered to a GET / carrying these Host headers, in this order."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "root_path": "", "scheme": "http",
             "query_string": b"", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
             "headers": [(b"host", host) for host in hosts]}
    run_coroutine(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"])


def test_a_host_let_through_once_never_lets_another_through() -> None:
    app = TrustedHostsMiddleware(_page, allowed_hosts=["example.org", "www.shop.example", "*.city.example"])
    for _ in range(2):  # checked, then remembered
        assert _status(app, b"example.org")[0] == 200
        assert _status(app, b"EXAMPLE.org:8000")[0] == 200
    assert app.passed == {b"example.org", b"EXAMPLE.org:8000"}
    assert _status(app, b"evil.example")[0] == 400
    assert _status(app)[0] == 400  # no Host at all
    assert _status(app, b"example.org/x")[0] == 400  # not a host
    # Only the first Host header counts, as the application reads it: a remembered one second does not help.
    assert _status(app, b"evil.example", b"example.org")[0] == 400
    assert _status(app, b"example.org", b"evil.example")[0] == 200
    # Starlette's redirect to the allowed www. host still answers.
    status, headers = _status(app, b"shop.example")
    assert status in (301, 307) and headers[b"location"] == b"http://www.shop.example/"
    assert b"evil.example" not in app.passed and b"shop.example" not in app.passed


def test_the_hosts_remembered_are_bounded() -> None:
    app = TrustedHostsMiddleware(_page, allowed_hosts=["*.city.example"])
    for n in range(TrustedHostsMiddleware.MAX_REMEMBERED + 50):
        assert _status(app, f"q{n}.city.example".encode())[0] == 200
        assert len(app.passed) <= TrustedHostsMiddleware.MAX_REMEMBERED
    assert _status(app, b"city.example.evil")[0] == 400
    # A flood of made-up subdomains does not keep the host people use out of the memory for good.
    assert _status(app, b"www.city.example")[0] == 200
    assert b"www.city.example" in app.passed
