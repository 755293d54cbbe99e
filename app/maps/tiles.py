"""The map tiles' server, from the settings: the one origin besides the platform's that the
Content-Security-Policy lets pages load images from (`img-src`)."""

import re
from urllib.parse import urlsplit

from app.settings import Settings

# A DNS name (RFC 1123 labels), with the "*." of a "{s}" subdomain placeholder: nothing that
# could end the CSP source or add one ("; ", a space, a quote).
HOST = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def tile_source(settings: Settings | None) -> str | None:
    """The CSP source of the configured tile server: "https://tile.openstreetmap.org" for the
    default template; a "{s}" subdomain placeholder becomes a wildcard ("https://*.example.org");
    with a port, "http://localhost:8081". None when the setting is empty or not an http(s) URL
    (then no tile is ever requested), and when its host is not a DNS name or its port not a
    number from 1 to 65535 (then no tile loads, and no page breaks)."""
    if settings is None:
        settings = Settings()
    template = settings.map_tile_url.strip()
    try:
        parts = urlsplit(template.replace("{s}", "s-placeholder"))
        port_number = parts.port
    except ValueError:  # a port out of range or not a number
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.replace("s-placeholder", "*")
    if not HOST.fullmatch(host):
        return None
    port = f":{port_number}" if port_number else ""
    return f"{parts.scheme}://{host}{port}"

