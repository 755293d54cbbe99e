"""The location part of the idea form: the fields a route receives (`LocationForm`), what the
form shows (`form_context`), and the district a point suggests."""

from typing import Annotated, Any

from fastapi import Depends, Form
from sqlmodel import Session

from app.call.models import Call
from app.idea.models import Idea
from app.maps import service
from app.maps.models import LocationMode
from app.params import parse_id

Coordinate = Annotated[str, Form(max_length=40)]
Words = Annotated[str, Form(max_length=300)]


def location_input(latitude: Coordinate = "", longitude: Coordinate = "", address: Words = "",
                   place_id: Coordinate = "", place_label: Words = "", location_clear: Coordinate = "",
                   district_whole_city: Coordinate = "") -> service.LocationInput:
    """The idea form's location fields as sent (a bad place id reads as none chosen).
    `district_whole_city` "1": the person chose "The whole city" themselves (static/js/map.js
    says so), so no district is suggested from the point."""
    return service.LocationInput(latitude=latitude, longitude=longitude, address=address,
                                 place_id=parse_id(place_id), label=place_label, clear=location_clear == "1",
                                 whole_city=district_whole_city == "1")


LocationForm = Annotated[service.LocationInput, Depends(location_input)]


def form_context(session: Session, call: Call, idea: Idea | None) -> dict[str, Any]:
    """What the idea form's location block needs: the call's rule, the places offered, the
    idea's current location (an edit), and whether district outlines exist (the picker draws them)."""
    assert call.id is not None
    mode = service.location_mode(session, call.id)
    if mode == LocationMode.off:
        return {"location_mode": str(mode)}
    places = service.places_for(session, call.id)
    return {
        "location_mode": str(mode),
        "place_choices": [(p.id, p.name) for p in places],
        # Each place's point, for the form's script to suggest its district as it is chosen.
        "place_points": {str(p.id): [p.latitude, p.longitude] for p in places},
        "current_location": service.location_of(session, idea.id) if idea and idea.id else None,
        "outlines": service.has_outlines(session),
    }


def district_for(session: Session, district_id: int | None, resolved: service.Resolved,
                 given: service.LocationInput) -> int | None:
    """The district the idea goes in: the one chosen, else none when "The whole city" was chosen
    on purpose (`given.whole_city`), else the one whose outline holds the point."""
    if district_id is not None or resolved.point is None or given.whole_city:
        return district_id
    district = service.suggest_district(session, resolved.point)
    return district.id if district else None
