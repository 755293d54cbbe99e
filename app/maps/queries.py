"""Reading locations for maps and open data: only public ideas, through `app.idea.queries`."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.call.models import Call, District
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.maps.models import CallMap, DistrictBoundary, IdeaLocation, LocationMode

MAX_MARKERS = 5000


@dataclass
class Marker:
    """One public idea on a map: the idea and where it is."""

    idea: Idea
    location: IdeaLocation


def markers(session: Session, call: Call, filters: idea_queries.IdeaFilters,
            limit: int = MAX_MARKERS) -> list[Marker]:
    """The located public ideas of `call` under the list's filters (theme, district, status),
    in the list's order, at most `limit`. Hidden, draft, rejected or withdrawn ideas never appear:
    the query is app.idea.queries.public_ideas, the one definition of public."""
    assert call.id is not None
    query = idea_queries.public_ideas(call.id, filters)
    ideas = list(session.exec(query.join(IdeaLocation, col(IdeaLocation.idea_id) == Idea.id).limit(limit)))
    ids = [i.id for i in ideas if i.id is not None]
    places = {p.idea_id: p for p in session.exec(select(IdeaLocation).where(col(IdeaLocation.idea_id).in_(ids)))} \
        if ids else {}
    return [Marker(idea=idea, location=places[idea.id]) for idea in ideas if idea.id in places]


def located_count(session: Session, call: Call, filters: idea_queries.IdeaFilters) -> int:
    """How many public ideas under the filters have a location."""
    assert call.id is not None
    query = idea_queries.public_ideas(call.id, filters).join(IdeaLocation, col(IdeaLocation.idea_id) == Idea.id)
    return idea_queries.count(session, query)


def has_map(session: Session, call: Call) -> bool:
    """Whether the call's map page is worth a link: the call asks for locations, or some of its
    public ideas have one (placed while it did)."""
    assert call.id is not None
    rule = session.get(CallMap, call.id)
    if rule is not None and rule.location_mode != LocationMode.off:
        return True
    return located_count(session, call, idea_queries.IdeaFilters()) > 0


def feature_collection(found: list[Marker], url_of: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946) of the markers: each a Point feature with
    coordinates [longitude, latitude] (§3.1.1: longitude first) and the idea's id, title,
    status, supports, place label and page URL (`url_of(idea_id)`) as properties."""
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": m.idea.id,
            "geometry": {"type": "Point", "coordinates": [m.location.longitude, m.location.latitude]},
            "properties": {"id": m.idea.id, "title": m.idea.title, "status": m.idea.status,
                           "vote_count": m.idea.vote_count, "place": m.location.label,
                           "url": url_of(m.idea.id)},
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
