"""FAKES of Facebook's Graph API and X's API v2, for the channels no real server of which can
run here. Each is a real HTTP server on loopback answering the documented requests with the
documented shapes (see app/announce/channels/facebook.py and x.py for the sources), keeping
what was posted, checking the bearer token, and answering queued faults first:

    server.faults.append((500, {}, b"..."))   # the next request gets this answer
    server.posts                                # what a reader of the page or account sees
    server.requests                             # (method, path, headers) of every request
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakeNetwork:
    """State shared by a fake server and the test."""

    token: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Answer] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    # Answer this many requests after doing their work: the network accepted, the client never heard.
    drop_after_work: int = 0
    # Wait this many seconds after doing the work before answering (a worker killed meanwhile).
    hang_after_work: float = 0.0
    # Every POST takes this long to answer (workers kept busy together).
    delay: float = 0.0
    url: str = ""
    # X: the refresh token that POST /2/oauth2/token accepts (rotated at each use); "" for none.
    refresh_token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000

    def new_id(self) -> str:
        with self.lock:
            self.next_id += 1
            return str(self.next_id)


def _form(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    kind = handler.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"content-type: " + kind.encode() + b"\r\n\r\n" + body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[name] = payload if part.get_filename() else payload.decode()
        return fields
    if kind.startswith("application/json"):
        return json.loads(body or b"{}")
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


class _Handler(BaseHTTPRequestHandler):
    network: FakeNetwork

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        net = self.network
        net.requests.append((method, parts.path, dict(self.headers)))
        if net.faults:
            status, headers, raw = net.faults.pop(0)
            self._answer(status, raw, headers)
            return
        if parts.path == "/2/oauth2/token" and method == "POST":
            self._token(_form(self, body) if body else {})
            return
        if self.headers.get("authorization") != f"Bearer {net.token}":
            self.refused()
            return
        status, answer = self.route(method, parts.path, parse_qs(parts.query), _form(self, body) if body else {})
        if net.delay and method == "POST":
            time.sleep(net.delay)
        if net.hang_after_work and method == "POST":
            hang, net.hang_after_work = net.hang_after_work, 0.0
            time.sleep(hang)
        if net.drop_after_work > 0:
            net.drop_after_work -= 1
            self.close_connection = True
            self.connection.close()  # the work is done; the client hears nothing
            return
        self._answer(status, answer)

    def refused(self) -> None:
        raise NotImplementedError

    def _token(self, form: dict[str, Any]) -> None:
        """X's OAuth 2.0 refresh_token grant: a new access token and a new refresh token, the
        presented one spent (https://docs.x.com/resources/fundamentals/authentication/oauth-2-0)."""
        net = self.network
        if (form.get("grant_type") != "refresh_token" or not net.refresh_token
                or form.get("refresh_token") != net.refresh_token):
            self._answer(400, {"error": "invalid_request",
                               "error_description": "Value passed for the token was invalid."})
            return
        net.token, net.refresh_token = f"access-{net.new_id()}", f"refresh-{net.new_id()}"
        self._answer(200, {"token_type": "bearer", "expires_in": 7200, "access_token": net.token,
                           "scope": "tweet.write users.read offline.access", "refresh_token": net.refresh_token})

    def route(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, Any]) -> tuple[int, Any]:
        raise NotImplementedError

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")


class _Graph(_Handler):
    """Graph API v21.0: a page's feed and photos, post deletion, errors as 400 with error codes."""

    page_id = "1234567890"

    def refused(self) -> None:
        self._answer(400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}})

    def route(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, Any]) -> tuple[int, Any]:
        net, page = self.network, self.page_id
        if method == "GET" and path == f"/{page}":
            return 200, {"name": "Ville de Liège", "id": page}
        if method == "POST" and path == f"/{page}/feed":
            post_id = f"{page}_{net.new_id()}"
            net.posts.append({"id": post_id, "message": form.get("message"), "link": form.get("link")})
            return 200, {"id": post_id}
        if method == "POST" and path == f"/{page}/photos":
            photo_id, post_id = net.new_id(), f"{page}_{net.new_id()}"
            net.posts.append({"id": post_id, "message": form.get("message"), "alt": form.get("alt_text_custom"),
                              "image": form.get("source")})
            return 200, {"id": photo_id, "post_id": post_id}
        if method == "GET" and path == f"/{page}/feed":
            newest = list(reversed(net.posts))[: int(query.get("limit", ["25"])[0])]
            return 200, {"data": [{"id": p["id"], "message": p["message"]} for p in newest]}
        if method == "DELETE":
            post_id = path.lstrip("/")
            if any(p["id"] == post_id for p in net.posts):
                net.posts[:] = [p for p in net.posts if p["id"] != post_id]
                return 200, {"success": True}
            return 400, {"error": {"message": "Unsupported delete request.", "code": 100}}
        return 400, {"error": {"message": "Unknown path", "code": 100}}


class _X(_Handler):
    """X API v2: posts, the account, its posts, media upload and alt text."""

    user_id = "42"

    def refused(self) -> None:
        self._answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})

    def route(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, Any]) -> tuple[int, Any]:
        net = self.network
        if method == "GET" and path == "/2/users/me":
            return 200, {"data": {"id": self.user_id, "name": "Ville de Liège", "username": "VilleDeLiege"}}
        if method == "POST" and path == "/2/media/upload":
            media_id = net.new_id()
            net.media[media_id] = {"data": form.get("media"), "category": form.get("media_category"), "alt": None}
            return 200, {"data": {"id": media_id, "media_key": f"3_{media_id}"}}
        if method == "POST" and path == "/2/media/metadata":
            net.media[form["id"]]["alt"] = form["metadata"]["alt_text"]["text"]
            return 200, {"data": {"associated_metadata": True}}
        if method == "POST" and path == "/2/tweets":
            if any(p["text"] == form["text"] for p in net.posts):
                return 403, {"detail": "You are not allowed to create a Tweet with duplicate content.",
                             "status": 403, "title": "Forbidden"}
            post_id = net.new_id()
            media_ids = (form.get("media") or {}).get("media_ids", [])
            net.posts.append({"id": post_id, "text": form["text"], "media": [net.media[m] for m in media_ids],
                              "reply_to": (form.get("reply") or {}).get("in_reply_to_tweet_id")})
            return 201, {"data": {"id": post_id, "text": form["text"]}}
        if method == "GET" and path == f"/2/users/{self.user_id}/tweets":
            newest = list(reversed(net.posts))[: int(query.get("max_results", ["10"])[0])]
            # X shows every link rewritten to t.co.
            return 200, {"data": [{"id": p["id"], "text": _tco(p["text"])} for p in newest]}
        if method == "DELETE" and path.startswith("/2/tweets/"):
            post_id = path.rsplit("/", 1)[1]
            if not any(p["id"] == post_id for p in net.posts):
                return 404, {"title": "Not Found Error", "status": 404}
            net.posts[:] = [p for p in net.posts if p["id"] != post_id]
            return 200, {"data": {"deleted": True}}
        return 404, {"title": "Not Found Error", "status": 404}


def _tco(text: str) -> str:
    from app.announce.counting import URL

    return URL.sub("https://t.co/AbCdEf1234", text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed worker, a dropped answer) is part of the tests


@contextmanager
def _serve(handler: type[_Handler], network: FakeNetwork) -> Iterator[FakeNetwork]:
    bound = type(handler.__name__, (handler,), {"network": network})
    server = _Server(("127.0.0.1", 0), bound)
    network.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield network
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def graph_api(token: str = "page-token-secret") -> Iterator[FakeNetwork]:
    """A FAKE Graph API for page 1234567890; `network.url` is its base (use as graph_url)."""
    with _serve(_Graph, FakeNetwork(token=token)) as network:
        yield network


@contextmanager
def x_api(token: str = "x-user-token-secret") -> Iterator[FakeNetwork]:
    """A FAKE X API v2 for the account @VilleDeLiege (user 42); `network.url` is its base."""
    with _serve(_X, FakeNetwork(token=token)) as network:
        yield network
