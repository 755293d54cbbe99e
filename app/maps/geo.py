"""Plain geometry on WGS 84 degrees, without a database: checking coordinates, reading GeoJSON
district outlines, and whether a point lies inside one.

Point-in-polygon is the even-odd (ray casting) rule: a horizontal ray from the point crosses a
ring's edges an odd number of times when the point is inside (W. R. Franklin's PNPOLY). Rings
follow RFC 7946 §3.1.6: the first ring of a polygon is its outline, the others are holes; a
position is [longitude, latitude]. A district is a few kilometres wide, so treating degrees as a
plane is exact enough to tell districts apart (no ring crosses the antimeridian in a city).
"""

import json
import math
from dataclasses import dataclass
from typing import Any

from app.errors import ValidationFailed
from app.i18n import N_

Ring = list[tuple[float, float]]  # (lon, lat) pairs, closed (first == last)
Polygon = list[Ring]  # outline, then holes
MAX_GEOJSON_BYTES = 5 * 1024 * 1024
MAX_POSITIONS = 200_000


@dataclass(frozen=True)
class Point:
    """A place on Earth: latitude and longitude in degrees (WGS 84)."""

    latitude: float
    longitude: float


def valid_point(latitude: float, longitude: float) -> bool:
    """Whether (latitude, longitude) is a finite point: latitude in [-90, 90], longitude in
    [-180, 180] degrees."""
    return (math.isfinite(latitude) and math.isfinite(longitude)
            and -90 <= latitude <= 90 and -180 <= longitude <= 180)


def parse_point(latitude: str, longitude: str) -> Point | None:
    """The point typed in two form fields (a decimal comma accepted), or None when both are
    empty. Raises ValidationFailed on the field "latitude" or "longitude" for a value that is not
    a number or out of range."""
    lat_text, lon_text = latitude.strip().replace(",", "."), longitude.strip().replace(",", ".")
    if not lat_text and not lon_text:
        return None
    errors: dict[str, str] = {}
    values: list[float] = []
    for name, text, bound in (("latitude", lat_text, 90), ("longitude", lon_text, 180)):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or abs(value) > bound:
            errors[name] = (N_("Give a latitude between -90 and 90 degrees.") if name == "latitude"
                            else N_("Give a longitude between -180 and 180 degrees."))
        values.append(value)
    if errors:
        raise ValidationFailed(errors)
    return Point(latitude=round(values[0], 6), longitude=round(values[1], 6))


def _ring_contains(ring: Ring, lon: float, lat: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygons_contain(polygons: list[Polygon], point: Point) -> bool:
    """Whether `point` is inside one of `polygons` (inside its outline and outside its holes)."""
    for polygon in polygons:
        if polygon and _ring_contains(polygon[0], point.longitude, point.latitude) and not any(
                _ring_contains(hole, point.longitude, point.latitude) for hole in polygon[1:]):
            return True
    return False


def _position(value: Any) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise ValueError
    lon, lat = float(value[0]), float(value[1])
    if not valid_point(lat, lon):
        raise ValueError
    return lon, lat


def _polygon(value: Any) -> Polygon:
    if not isinstance(value, list) or not value:
        raise ValueError
    rings: Polygon = []
    for raw in value:
        if not isinstance(raw, list):
            raise ValueError
        ring = [_position(p) for p in raw]
        # RFC 7946 §3.1.6: a linear ring has four or more positions, the first equal to the last.
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise ValueError
        rings.append(ring)
    return rings


def polygons_of(geometry: Any) -> list[Polygon]:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry object. Raises ValueError for
    anything else or a malformed ring."""
    if not isinstance(geometry, dict):
        raise ValueError
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return [_polygon(coordinates)]
    if kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        return [_polygon(p) for p in coordinates]
    raise ValueError


def bounding_box(polygons: list[Polygon]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the polygons' outlines."""
    lons = [lon for polygon in polygons for lon, _ in polygon[0]]
    lats = [lat for polygon in polygons for _, lat in polygon[0]]
    return min(lons), min(lats), max(lons), max(lats)


@dataclass
class Outline:
    """One district's outline read from an import: the name or slug it was given, its geometry."""

    key: str
    geometry: dict[str, Any]
    polygons: list[Polygon]


def read_feature_collection(data: bytes) -> list[Outline]:
    """The outlines of a GeoJSON FeatureCollection (RFC 7946) whose features each carry a
    Polygon or MultiPolygon and a property "slug" or "name" naming a district.

    Raises ValidationFailed on the field "geojson" with what is wrong: not JSON, not a
    FeatureCollection, a feature without a name, a geometry that is not a valid (Multi)Polygon
    in longitude/latitude degrees, a file over 5 MB or with too many positions."""
    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed({"geojson": message})

    if len(data) > MAX_GEOJSON_BYTES:
        raise refuse(N_("The file is too large (5 MB at most)."))
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: arrays or objects nested deeper than Python's JSON reader follows.
        raise refuse(N_("The file is not valid GeoJSON (JSON could not be read).")) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list) or not document["features"]:
        raise refuse(N_("The file must be a GeoJSON FeatureCollection with one feature per district."))
    outlines: list[Outline] = []
    positions = 0
    for feature in document["features"]:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        key = ""
        if isinstance(properties, dict):
            key = str(properties.get("slug") or properties.get("name") or "").strip()
        if not key:
            raise refuse(N_("Each feature needs a \"slug\" or \"name\" property naming its district."))
        try:
            polygons = polygons_of(feature.get("geometry"))
        except ValueError:
            raise refuse(N_("Each district must be a Polygon or MultiPolygon with closed rings of "
                            "longitude, latitude positions.")) from None
        positions += sum(len(ring) for polygon in polygons for ring in polygon)
        if positions > MAX_POSITIONS:
            raise refuse(N_("The outlines have too many points (200,000 at most)."))
        outlines.append(Outline(key=key, geometry=feature["geometry"], polygons=polygons))
    return outlines
