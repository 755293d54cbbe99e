"""The demonstration's ideas are placed in Liège, its districts have (approximate) outlines that
suggest the right district, and its map pages show them."""

import json

from sqlmodel import Session, select

from app import demo
from app.call.models import Call, District
from app.db import Database
from app.idea.models import Idea
from app.maps import service
from app.maps.geo import Point
from app.maps.models import IdeaLocation, MapPlace
from app.settings import Settings
from tests.support import WebClient


def test_demo_ideas_are_in_liege_and_the_district_is_suggested(db: Database, settings: Settings,
                                                               session: Session, client: WebClient) -> None:
    assert demo.seed(db, settings)
    session.expire_all()
    locations = session.exec(select(IdeaLocation)).all()
    assert len(locations) >= 20
    for place in locations:  # inside Liège's territory
        assert 50.58 < place.latitude < 50.70 and 5.50 < place.longitude < 5.70
    wifi = session.exec(select(Idea).where(Idea.title == "Wi-Fi public gratuit place Saint-Lambert")).one()
    assert wifi.id is not None
    here = session.get(IdeaLocation, wifi.id)
    assert here is not None and (here.latitude, here.longitude, here.label) == (50.6455, 5.5736, "Place Saint-Lambert")
    assert "Gare des Guillemins" in [p.name for p in session.exec(select(MapPlace))]
    centre = service.suggest_district(session, Point(50.6455, 5.5736))
    assert centre is not None and centre.name == "Centre"
    outremeuse = service.suggest_district(session, Point(50.6395, 5.5850))
    assert outremeuse is not None and outremeuse.name == "Outremeuse"
    assert service.suggest_district(session, Point(50.80, 5.57)) is None  # north of the city
    # Every district placed ideas sit in carries its own outline's suggestion.
    districts = {d.id: d.name for d in session.exec(select(District))}
    for idea in session.exec(select(Idea).where(Idea.district_id.is_not(None))):  # type: ignore[union-attr]
        place = session.get(IdeaLocation, idea.id)
        if place is not None and place.label == districts[idea.district_id]:
            found = service.suggest_district(session, Point(place.latitude, place.longitude))
            assert found is not None and found.id == idea.district_id, idea.title

    call = session.exec(select(Call).where(Call.slug == "reinventons-liege")).one()
    page = client.get(f"/calls/{call.slug}/map")
    assert page.status_code == 200 and "Wi-Fi public gratuit place Saint-Lambert" in page.text
    data = json.loads(client.get(f"/api/calls/{call.slug}/ideas.geojson").text)
    public = {i.id for i in session.exec(select(Idea).where(Idea.call_id == call.id)) if i.is_public}
    assert data["features"] and {f["id"] for f in data["features"]} <= public
