"""The map tiles' server, from the settings: the one origin besides the platform's that the
Content-Security-Policy lets pages load images from (`img-src`)."""

from urllib.parse import urlsplit

from app.settings import Settings


def tile_source(settings: Settings | None) -> str | None:
    """The CSP source of the configured tile server: "https://tile.openstreetmap.org" for the
    default template; a "{s}" subdomain placeholder becomes a wildcard ("https://*.example.org");
    with a port, "http://localhost:8081". None when the setting is empty or not an http(s) URL
    (then no tile is ever requested)."""
    if settings is None:
        settings = Settings()
    template = settings.map_tile_url.strip()
    parts = urlsplit(template.replace("{s}", "s-placeholder"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.replace("s-placeholder", "*")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"

