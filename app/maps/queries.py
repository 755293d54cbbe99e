"""Reading locations for maps and open data: only public ideas, through `app.idea.queries`."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.call.models import Call, District
from app.call.phases import results_public
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.maps.models import CallMap, DistrictBoundary, IdeaLocation, LocationMode

MAX_MARKERS = 5000


@dataclass
class Marker:
    """One public idea on a map: the idea and where it is."""

    idea: Idea
    location: IdeaLocation


def markers(session: Session, call: Call | Sequence[int], filters: idea_queries.IdeaFilters,
            limit: int | None = None) -> list[Marker]:
    """The located public ideas of `call` (or of the calls whose ids are given: the map of every
    call's ideas) under the list's filters (theme, district, status), in the list's order, at
    most `limit` (MAX_MARKERS when None). Hidden, draft, rejected or withdrawn ideas never appear: the query is
    app.idea.queries.public_ideas, the one definition of public."""
    query = _public(session, call, filters)
    located = query.join(IdeaLocation, col(IdeaLocation.idea_id) == Idea.id)
    ideas = list(session.exec(located.limit(MAX_MARKERS if limit is None else limit)))
    ids = [i.id for i in ideas if i.id is not None]
    places = {p.idea_id: p for p in session.exec(select(IdeaLocation).where(col(IdeaLocation.idea_id).in_(ids)))} \
        if ids else {}
    return [Marker(idea=idea, location=places[idea.id]) for idea in ideas if idea.id in places]


def _call_ids(call: Call | Sequence[int]) -> int | list[int]:
    if isinstance(call, Call):
        assert call.id is not None
        return call.id
    return list(call)


def selection_public_ids(session: Session, call: Call | Sequence[int]) -> list[int]:
    """The ids of `call` (or of the calls whose ids are given) whose selection is public: their
    results are out (app.call.phases.results_public). A map shows the "Selected" tag, and
    filters by winner or shortlist, only for these."""
    calls = [call] if isinstance(call, Call) else list(
        session.exec(select(Call).where(col(Call.id).in_(list(call))))) if call else []
    return [c.id for c in calls if c.id is not None and results_public(c)]


def _public(session: Session, call: Call | Sequence[int], filters: idea_queries.IdeaFilters) -> SelectOfScalar[Idea]:
    selected = selection_public_ids(session, call) if filters.status in ("winner", "shortlisted") else []
    return idea_queries.public_ideas(_call_ids(call), filters, selected_in=selected)


def located_count(session: Session, call: Call | Sequence[int], filters: idea_queries.IdeaFilters) -> int:
    """How many public ideas under the filters have a location (of one call, or of the calls
    whose ids are given)."""
    query = _public(session, call, filters).join(IdeaLocation, col(IdeaLocation.idea_id) == Idea.id)
    return idea_queries.count(session, query)


@dataclass
class MapCounts:
    """What a map page says about the ideas it does not draw: `left_off` located ideas past the
    markers' cap (MAX_MARKERS), `unlocated` public ideas without a location."""

    left_off: int
    unlocated: int


def map_counts(session: Session, call: Call | Sequence[int], filters: idea_queries.IdeaFilters,
               shown: int) -> MapCounts:
    """The ideas under the filters that a map showing `shown` markers leaves out, by reason."""
    located = located_count(session, call, filters)
    total = idea_queries.count(session, _public(session, call, filters))
    return MapCounts(left_off=max(0, located - shown), unlocated=max(0, total - located))


def any_located(session: Session, call_ids: Sequence[int]) -> bool:
    """Whether one public idea of these calls has a location (the map of every call's ideas is
    then worth a link)."""
    if not call_ids:
        return False
    query = idea_queries.public_ideas(list(call_ids)).join(IdeaLocation, col(IdeaLocation.idea_id) == Idea.id)
    return session.exec(query.order_by(None).limit(1)).first() is not None


def has_map(session: Session, call: Call) -> bool:
    """Whether the call's map page is worth a link: the call asks for locations, or some of its
    public ideas have one (placed while it did)."""
    assert call.id is not None
    rule = session.get(CallMap, call.id)
    if rule is not None and rule.location_mode != LocationMode.off:
        return True
    # Whether one exists, not how many: kept per page generation, so asked again after every
    # support, and a count read every located idea of the call (issue 14).
    return any_located(session, [call.id])


def feature_collection(found: list[Marker], url_of: Any, call_slugs: dict[int, str] | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946) of the markers: each a Point feature with
    coordinates [longitude, latitude] (§3.1.1: longitude first) and the idea's id, title,
    status, supports, place label, page URL (`url_of(idea_id)`) and call slug (from
    `call_slugs` by call id; "" when missing) as properties."""
    slugs = call_slugs or {}
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": m.idea.id,
            "geometry": {"type": "Point", "coordinates": [m.location.longitude, m.location.latitude]},
            "properties": {"id": m.idea.id, "title": m.idea.title, "status": m.idea.status,
                           "vote_count": m.idea.vote_count, "place": m.location.label,
                           "url": url_of(m.idea.id), "call": slugs.get(m.idea.call_id, "")},
        } for m in found],
    }



def outlines_collection(boundaries: list[tuple[District, DistrictBoundary]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946) of the districts' imported outlines, by position:
    each a Polygon or MultiPolygon feature in [longitude, latitude] positions, with the
    district's id, slug and name (as written, untranslated) as properties."""
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": district.id,
            "geometry": boundary.geometry,
            "properties": {"id": district.id, "slug": district.slug, "name": district.name},
        } for district, boundary in boundaries],
    }
