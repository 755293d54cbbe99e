"""The rules of maps: where an idea is, how a call asks for it, named places, district outlines.

Services take `(session, *, ...)`, never commit, and raise `app.errors` (ValidationFailed on the
form's field names: "location", "latitude", "longitude", "address", "place_id", "geojson",
"place_name").
"""

from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from app import audit
from app.account.models import User
from app.audit import AuditAction, TargetType
from app.call.models import Call, District
from app.errors import ValidationFailed
from app.i18n import N_
from app.maps import geo, geocoder
from app.maps.geo import Point
from app.maps.models import CallMap, DistrictBoundary, IdeaLocation, LocationMode, MapPlace
from app.settings import Settings

MAX_PLACES = 200


class UnknownDistricts(ValidationFailed):
    """A boundaries file naming districts that do not exist: `names`, as the file spells them
    (at most 20), for the administrator to correct."""

    def __init__(self, names: list[str]) -> None:
        super().__init__({"geojson": N_("Each feature must name an existing district by its slug or name.")})
        self.names = names[:20]


@dataclass
class LocationInput:
    """What the idea form sent about the location: coordinates (the map picker fills them), a
    typed address, a chosen place's id, the label typed, and whether to remove the location."""

    latitude: str = ""
    longitude: str = ""
    address: str = ""
    place_id: int | None = None
    label: str = ""
    clear: bool = False
    whole_city: bool = False  # "The whole city" chosen on purpose: no district suggested

    def values(self) -> dict[str, str]:
        """The fields as the form shows them again (strings, as sent)."""
        return {"latitude": self.latitude, "longitude": self.longitude, "address": self.address,
                "place_id": str(self.place_id or ""), "place_label": self.label,
                "district_whole_city": "1" if self.whole_city else ""}


@dataclass(frozen=True)
class Resolved:
    """The location an idea will carry (None: none), decided before anything is written."""

    point: Point | None
    label: str
    keep: bool = False  # nothing was given: leave the idea's location as it is


def location_mode(session: Session, call_id: int) -> LocationMode:
    """The call's rule for ideas' locations (off when never set)."""
    row = session.get(CallMap, call_id)
    return LocationMode(row.location_mode) if row else LocationMode.off


def places_for(session: Session, call_id: int) -> list[MapPlace]:
    """The named places offered for a call: the city's (no call) and the call's own, by name."""
    return list(session.exec(select(MapPlace)
                             .where(or_(col(MapPlace.call_id).is_(None), MapPlace.call_id == call_id))
                             .order_by(col(MapPlace.name), col(MapPlace.id))))


def resolve(session: Session, settings: Settings, *, call: Call, given: LocationInput,
            has_location: bool = False, draft: bool = False, current_label: str = "") -> Resolved:
    """Where the idea is, from the form: removed when "Remove the location" is ticked (whatever
    the other fields still hold), else a chosen place first, then an address (looked up by the
    configured geocoder), then coordinates. `has_location`: the idea already has one (an edit);
    `current_label`: its name now, which the edit form shows again: left as it was, a newly
    chosen place or found address is named by its own name instead; `draft`: the idea stays a
    draft, which may wait for its location even when it is required.

    Raises ValidationFailed: "place_id" for a place not offered in this call, "address" when
    the address cannot be looked up (app.maps.geocoder), "latitude"/"longitude" out of range,
    "location" when the call requires a location and none is given or it is removed. Writes
    nothing."""
    assert call.id is not None
    mode = location_mode(session, call.id)
    label = given.label.strip()[:200]
    if mode == LocationMode.off:
        return Resolved(point=None, label="", keep=True)
    required = N_("This call asks where your idea is: pick a place on the map, in the list, or type an address.")
    if given.clear:
        if mode == LocationMode.required and not draft:
            raise ValidationFailed({"location": required})
        return Resolved(point=None, label="")
    # The name shown again unchanged names the old place, not a newly chosen one.
    own_label = "" if current_label and label == current_label.strip() else label
    result: Resolved | None = None
    if given.place_id is not None:
        place = session.get(MapPlace, given.place_id)
        if place is None or place.call_id not in (None, call.id):
            raise ValidationFailed({"place_id": N_("Choose a place from the list.")})
        result = Resolved(point=Point(place.latitude, place.longitude), label=own_label or place.name)
    elif given.address.strip():
        found, name = geocoder.geocode(settings, given.address.strip()[:300])
        result = Resolved(point=found, label=own_label or name)
    else:
        typed = geo.parse_point(given.latitude, given.longitude)
        if typed is not None:
            result = Resolved(point=typed, label=label)
    if result is None:
        if mode == LocationMode.required and not draft and not has_location:
            raise ValidationFailed({"location": required})
        return Resolved(point=None, label="", keep=True)
    return result


def place_idea(session: Session, *, idea_id: int, resolved: Resolved) -> IdeaLocation | None:
    """Give the idea the resolved location (or remove it); returns the row, None without one."""
    row = session.get(IdeaLocation, idea_id)
    if resolved.keep:
        return row
    if resolved.point is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return None
    if row is None:
        row = IdeaLocation(idea_id=idea_id, latitude=0, longitude=0)
    row.latitude, row.longitude, row.label = resolved.point.latitude, resolved.point.longitude, resolved.label
    session.add(row)
    session.flush()
    return row


def location_of(session: Session, idea_id: int) -> IdeaLocation | None:
    """The idea's location, if it has one."""
    return session.get(IdeaLocation, idea_id)


def suggest_district(session: Session, point: Point) -> District | None:
    """The district whose imported outline contains `point` (the first by position when outlines
    overlap), or None. Candidates are narrowed by bounding box in SQL, then tested by ray casting
    (app.maps.geo)."""
    rows = session.exec(
        select(DistrictBoundary, District).join(District, col(District.id) == DistrictBoundary.district_id)
        .where(DistrictBoundary.min_lat <= point.latitude, DistrictBoundary.max_lat >= point.latitude,
               DistrictBoundary.min_lon <= point.longitude, DistrictBoundary.max_lon >= point.longitude)
        .order_by(col(District.position), col(District.id))).all()
    for boundary, district in rows:
        if geo.polygons_contain(geo.polygons_of(boundary.geometry), point):
            return district
    return None


def set_location_mode(session: Session, *, actor: User, call: Call, mode: str) -> None:
    """Set whether the call's ideas carry a location (off, optional, required); audited.
    Raises ValidationFailed("location_mode") for another value."""
    assert call.id is not None
    if mode not in set(LocationMode):
        raise ValidationFailed({"location_mode": N_("Choose one of the options.")})
    row = session.get(CallMap, call.id) or CallMap(call_id=call.id)
    before = row.location_mode
    row.location_mode = mode
    session.add(row)
    audit.record(session, actor=actor, action=AuditAction.map_settings, target_type=TargetType.call,
                 target_id=call.id, details={"location_mode": [before, mode]})


def _place_fields(name: str, latitude: str, longitude: str) -> tuple[str, Point]:
    """A place's name (spaces collapsed) and point as typed; raises ValidationFailed on
    "place_name" (empty, over 120 characters) and "latitude"/"longitude"."""
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name or len(name) > 120:
        errors["place_name"] = N_("Give the place a name of at most 120 characters.")
    try:
        point = geo.parse_point(latitude, longitude)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        point = None
    else:
        if point is None:
            errors["latitude"] = N_("Give a latitude between -90 and 90 degrees.")
    if errors:
        raise ValidationFailed(errors)
    assert point is not None
    return name, point


def add_place(session: Session, *, actor: User, call: Call | None, name: str, latitude: str,
              longitude: str) -> MapPlace:
    """A named place for the call (or for every call when `call` is None); audited against the
    call (0 for the city's). Raises ValidationFailed on "place_name" (empty, over 120
    characters), "latitude"/"longitude", or "place_name" past 200 places."""
    name, point = _place_fields(name, latitude, longitude)
    call_id = call.id if call else None
    if len(places_for(session, call_id or 0)) >= MAX_PLACES:
        raise ValidationFailed({"place_name": N_("There are already 200 places; remove one first.")})
    place = MapPlace(call_id=call_id, name=name, latitude=point.latitude, longitude=point.longitude)
    session.add(place)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.map_settings, target_type=TargetType.call,
                 target_id=call_id or 0, details={"place_added": name})
    return place


def edit_place(session: Session, *, actor: User, place: MapPlace, name: str, latitude: str,
               longitude: str) -> None:
    """Rename or move a named place (ideas placed there before keep their own point and label:
    each carries a copy); audited against its call (0 for the city's) with what changed, as
    [before, after]; nothing recorded when nothing changed. Raises ValidationFailed as
    add_place does."""
    name, point = _place_fields(name, latitude, longitude)
    changes = {key: [before, after] for key, before, after in (
        ("name", place.name, name), ("latitude", place.latitude, point.latitude),
        ("longitude", place.longitude, point.longitude)) if before != after}
    if not changes:
        return
    place.name, place.latitude, place.longitude = name, point.latitude, point.longitude
    session.add(place)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.map_settings, target_type=TargetType.call,
                 target_id=place.call_id or 0, details={"place_edited": place.id, **changes})


def remove_place(session: Session, *, actor: User, place: MapPlace) -> None:
    """Remove a named place (ideas placed there keep their point); audited."""
    session.delete(place)
    audit.record(session, actor=actor, action=AuditAction.map_settings, target_type=TargetType.call,
                 target_id=place.call_id or 0, details={"place_removed": place.name})


def import_boundaries(session: Session, *, actor: User, data: bytes) -> list[District]:
    """Replace the outlines of the districts named in a GeoJSON FeatureCollection (by slug, or
    by name, case-insensitive); other districts keep theirs. Returns the districts updated.

    Raises ValidationFailed("geojson") for a malformed file (app.maps.geo.read_feature_collection),
    UnknownDistricts (a ValidationFailed) naming the features' districts that do not exist;
    nothing is written then. Audited."""
    outlines = geo.read_feature_collection(data)
    districts = list(session.exec(select(District)))
    by_key = {d.slug.lower(): d for d in districts} | {d.name.lower(): d for d in districts}
    matched: list[tuple[District, geo.Outline]] = []
    unknown: list[str] = []
    for outline in outlines:
        district = by_key.get(outline.key.lower())
        if district is None:
            unknown.append(outline.key[:80])
        else:
            matched.append((district, outline))
    if unknown:
        raise UnknownDistricts(list(dict.fromkeys(unknown)))
    for district, outline in matched:
        assert district.id is not None
        min_lon, min_lat, max_lon, max_lat = geo.bounding_box(outline.polygons)
        row = session.get(DistrictBoundary, district.id) or DistrictBoundary(
            district_id=district.id, min_lon=0, min_lat=0, max_lon=0, max_lat=0)
        row.geometry = {"type": outline.geometry["type"], "coordinates": outline.geometry["coordinates"]}
        row.min_lon, row.min_lat, row.max_lon, row.max_lat = min_lon, min_lat, max_lon, max_lat
        session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.boundaries_import, target_type=TargetType.call,
                 target_id=0, details={"districts": [d.slug for d, _ in matched]})
    return [d for d, _ in matched]


def has_outlines(session: Session) -> bool:
    """Whether any district has an imported outline (the maps then draw them)."""
    return session.exec(select(DistrictBoundary.district_id).limit(1)).first() is not None


def boundaries(session: Session) -> list[tuple[District, DistrictBoundary]]:
    """Every district that has an outline, by position."""
    rows = session.exec(select(District, DistrictBoundary)
                        .join(DistrictBoundary, col(DistrictBoundary.district_id) == District.id)
                        .order_by(col(District.position), col(District.id))).all()
    return [(d, b) for d, b in rows]
