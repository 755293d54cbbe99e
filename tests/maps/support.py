"""Helpers of the maps tests: a call that asks for locations, and a real local HTTP server that
answers like Nominatim's search API (a stand-in geocoder, named as such)."""

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session

from app.call.models import Call
from app.maps.models import CallMap, LocationMode
from tests.factories import make_call


def call_with_locations(session: Session, mode: LocationMode = LocationMode.optional, **fields: Any) -> Call:
    """A call in its submission phase whose ideas carry a location (`mode`)."""
    call = make_call(session, **fields)
    assert call.id is not None
    session.add(CallMap(call_id=call.id, location_mode=mode))
    session.flush()
    return call


@dataclass
class FakeNominatim:
    """A stand-in geocoder on loopback speaking Nominatim's /search JSON (jsonv2): `places` maps
    an address (as typed) to (lat, lon, display_name); anything else finds nothing. `queries`
    records what it was asked, `status` forces an HTTP error."""

    url: str = ""
    places: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    queries: list[dict[str, list[str]]] = field(default_factory=list)
    status: int = 200


@contextmanager
def fake_nominatim(places: dict[str, tuple[str, str, str]]) -> Iterator[FakeNominatim]:
    """Run a FakeNominatim on a free loopback port for the duration of the block."""
    fake = FakeNominatim(places=places)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            fake.queries.append(query)
            if parts.path != "/search" or fake.status != 200:
                self.send_response(fake.status if fake.status != 200 else 404)
                self.end_headers()
                return
            found = fake.places.get(query.get("q", [""])[0])
            results: list[dict[str, Any]] = []
            if found:
                lat, lon, name = found
                results = [{"place_id": 1, "lat": lat, "lon": lon, "display_name": name,
                            "category": "place", "type": "square", "importance": 0.5}]
            body = json.dumps(results).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def form_fields(html: str) -> dict[str, str]:
    """The values a browser would send from the idea form as shown (inputs, chosen options,
    text areas; checkboxes left unticked), as a person who changes nothing would send them."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name = re.search(r'\bname="([^"]*)"', tag)
        kind = re.search(r'\btype="([^"]*)"', tag)
        if not name or (kind and kind.group(1) in {"checkbox", "file", "submit", "radio"}):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        fields[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected', body)
        fields[name] = unescape(chosen.group(1)) if chosen else ""
    for name, body in re.findall(r'<textarea\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = unescape(body).lstrip("\n")
    return fields

