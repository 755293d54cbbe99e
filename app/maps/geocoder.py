"""Turning a typed address into a point with a Nominatim-compatible geocoder, server-side.

Used only when `Settings.geocoder_url` is set. One GET of `<url>/search?q=...&format=jsonv2&limit=1`
(Nominatim's search API: https://nominatim.org/release-docs/latest/api/Search/), answered by a
JSON list whose items carry "lat" and "lon" as strings and a "display_name". The visitor's
browser never talks to the geocoder; the request carries no cookie and no personal data but the
address itself.
"""

import httpx

from app.errors import ValidationFailed
from app.i18n import N_
from app.maps.geo import Point, valid_point
from app.settings import Settings

USER_AGENT = "Reinventons (participation platform; geocoding typed addresses)"


def configured(settings: Settings) -> bool:
    """Whether typed addresses can be looked up (a geocoder URL is set)."""
    return bool(settings.geocoder_url)


def geocode(settings: Settings, address: str) -> tuple[Point, str]:
    """The first match of `address`: its point and the geocoder's name for it (at most 200
    characters). Waits `geocoder_timeout_ms` at most.

    Raises ValidationFailed on the field "address": no geocoder configured, no match, or the
    geocoder unreachable, slow or answering something that is not Nominatim's JSON."""
    if not configured(settings):
        raise ValidationFailed({"address": N_("Addresses cannot be looked up here: pick the place on "
                                              "the map, in the list, or give its coordinates.")})
    unreachable = ValidationFailed({"address": N_("The address could not be looked up just now. Please "
                                                  "try again, or pick the place another way.")})
    try:
        with httpx.Client(timeout=settings.geocoder_timeout_ms / 1000, follow_redirects=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            response = client.get(f"{settings.geocoder_url}/search",
                                  params={"q": address, "format": "jsonv2", "limit": "1"})
        response.raise_for_status()
        results = response.json()
    except (httpx.HTTPError, ValueError):
        raise unreachable from None
    if not isinstance(results, list):
        raise unreachable
    if not results:
        raise ValidationFailed({"address": N_("No place was found at this address.")})
    first = results[0]
    try:
        latitude, longitude = float(first["lat"]), float(first["lon"])
    except (TypeError, KeyError, ValueError):
        raise unreachable from None
    if not valid_point(latitude, longitude):
        raise unreachable
    label = str(first.get("display_name") or address)[:200]
    return Point(latitude=round(latitude, 6), longitude=round(longitude, 6)), label
