"""The map of every call's ideas together (/map) and its GeoJSON (/api/ideas.geojson): public
ideas of public calls only, the filters that apply across calls (call, district, status), the
list as the way without a map; and a map page that leaves ideas off past its cap says so."""

import json

import pytest
from sqlmodel import Session

from app.clock import utcnow
from app.idea.models import Idea
from app.maps import queries
from app.maps.models import CallMap, IdeaLocation
from tests.factories import make_call, make_district, make_idea, make_user
from tests.support import WebClient


def _place(session: Session, idea: Idea, lat: float, lon: float, label: str = "") -> Idea:
    assert idea.id is not None
    session.add(IdeaLocation(idea_id=idea.id, latitude=lat, longitude=lon, label=label))
    session.flush()
    return idea


def test_every_calls_public_ideas_together_with_their_call(client: WebClient, session: Session) -> None:
    centre = make_district(session, name="Centre")
    mobility = make_call(session, phase="voting", slug="mobilite", title="Mobilité douce")
    parks = make_call(session, phase="results", slug="parcs", title="Des parcs pour tous")  # its selection is public
    draft = make_call(session, phase="draft", slug="brouillon", title="Appel en préparation")
    author = make_user(session)
    bikes = _place(session, make_idea(session, mobility, author, title="Un abri vélo place Saint-Lambert",
                                      district=centre), 50.6455, 5.5736, "Place Saint-Lambert")
    benches = _place(session, make_idea(session, parks, author, title="Des bancs au parc d'Avroy",
                                        winner=True), 50.6365, 5.5689)
    _place(session, make_idea(session, parks, author, title="Idée cachée par la modération", hidden_at=utcnow()),
           50.64, 5.57)
    _place(session, make_idea(session, parks, author, title="Idée encore en attente", status="submitted"),
           50.64, 5.57)
    _place(session, make_idea(session, draft, author, title="Idée d'un appel en préparation"), 50.64, 5.57)
    make_idea(session, parks, author, title="Une idée sans lieu")
    session.commit()

    # The calls' page leads to it.
    assert 'href="/map"' in client.get("/calls").text
    page = client.get("/map")
    assert page.status_code == 200
    assert "Carte des idées de tous les appels" in page.text
    assert "Un abri vélo place Saint-Lambert" in page.text and "Des bancs au parc d" in page.text
    for never in ("Idée cachée", "Idée encore en attente", "appel en préparation"):
        assert never not in page.text
    assert "Mobilité douce" in page.text and "Des parcs pour tous" in page.text  # each idea's call
    assert "2 idées avec un lieu" in page.text
    assert "1 autre idée n’indique pas où elle se trouve." in page.text
    assert 'data-map="ideas"' in page.text and f'href="/ideas/{bikes.id}"' in page.text
    assert 'name="category"' not in page.text  # a theme belongs to one call
    # Filters: a call, a district, a status; an unknown value is no filter.
    assert "Des bancs" not in client.get(f"/map?call={mobility.id}").text
    assert "Un abri vélo" not in client.get(f"/map?district={centre.id}&call={parks.id}").text
    assert "Des bancs" in client.get("/map?status=winner").text
    assert "Un abri vélo" not in client.get("/map?status=winner").text
    assert client.get("/map?call=nope&status=maybe").text.count('class="map-item"') == 2
    assert client.get(f"/map?call={draft.id}").text.count('class="map-item"') == 2  # a draft call is no filter

    data = json.loads(client.get("/api/ideas.geojson").text)
    assert data["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in data["features"]}
    assert set(by_id) == {bikes.id, benches.id}
    assert by_id[bikes.id]["geometry"] == {"type": "Point", "coordinates": [5.5736, 50.6455]}
    assert by_id[bikes.id]["properties"]["call"] == "mobilite"
    assert by_id[benches.id]["properties"]["url"] == f"http://testserver/ideas/{benches.id}"
    only = json.loads(client.get(f"/api/ideas.geojson?call={parks.id}").text)
    assert [f["id"] for f in only["features"]] == [benches.id]
    assert json.loads(client.get(f"/api/ideas.geojson?district={centre.id}").text)["features"][0]["id"] == bikes.id


def test_no_link_to_the_map_of_every_call_without_located_ideas(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_idea(session, call, title="Une idée sans lieu")
    session.commit()
    assert 'href="/map"' not in client.get("/calls").text
    page = client.get("/map")
    assert page.status_code == 200 and "Aucune idée avec un emplacement ne correspond" in page.text


@pytest.mark.parametrize("path", ["/calls/carte-pleine/map", "/map"])
def test_a_map_that_leaves_ideas_off_says_how_many_and_how_to_see_fewer(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    # The cap is 5,000 markers; lowered to 2 here rather than placing 5,001 ideas.
    monkeypatch.setattr(queries, "MAX_MARKERS", 2)
    call = make_call(session, slug="carte-pleine")
    session.add(CallMap(call_id=call.id, location_mode="optional"))
    author = make_user(session)
    for n in range(5):
        _place(session, make_idea(session, call, author, title=f"Idée placée {n}"), 50.64, 5.57)
    make_idea(session, call, author, title="Une idée sans lieu")
    session.commit()
    page = client.get(path).text
    assert page.count('class="map-item"') == 2
    assert "5 idées avec un lieu" in page
    notice = page.split('id="map-left-off"')[1].split("</p>")[0]
    assert "La carte et la liste montrent les 2 idées avec un lieu les plus récentes" in notice
    assert "3 autres n’y figurent pas." in notice
    assert ("un thème, un quartier ou un statut" if path.startswith("/calls") else "un appel, un quartier") in notice
    # The ideas left off are not counted as ideas without a place.
    assert "1 autre idée n’indique pas où elle se trouve." in page
    # Within the cap, nothing is said (another address than the page cache's, app.pagecache,
    # which the lowered cap does not touch: an empty filter is no filter).
    monkeypatch.setattr(queries, "MAX_MARKERS", 5)
    within = client.get(f"{path}?district=").text
    assert within.count('class="map-item"') == 5 and 'id="map-left-off"' not in within
