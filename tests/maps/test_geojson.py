"""What the public sees of locations: the call's map page and its GeoJSON (RFC 7946) show public
ideas only, with the list's filters; the Content-Security-Policy allows exactly the tile host."""

import json

from sqlmodel import Session, select

from app.account.models import Role
from app.audit import AuditEntry
from app.clock import utcnow
from app.idea.models import Idea
from app.maps import queries as maps_queries
from app.maps.models import CallMap, DistrictBoundary, IdeaLocation, MapPlace
from app.security import content_security_policy
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.support import WebClient, counting


def _place(session: Session, idea: Idea, lat: float, lon: float, label: str = "") -> None:
    assert idea.id is not None
    session.add(IdeaLocation(idea_id=idea.id, latitude=lat, longitude=lon, label=label))
    session.flush()


def test_geojson_and_map_show_public_located_ideas_only(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    theme = make_category(session, call, name="Mobilité")
    public = make_idea(session, call, title="Un abri vélo place Saint-Lambert", category=theme)
    _place(session, public, 50.6455, 5.5736, "Place Saint-Lambert")
    other_theme = make_idea(session, call, title="Des bancs au parc d'Avroy")
    _place(session, other_theme, 50.6365, 5.5689)
    hidden = make_idea(session, call, title="Idée cachée par la modération", hidden_at=utcnow())
    _place(session, hidden, 50.64, 5.57)
    for status in ("draft", "submitted", "rejected", "withdrawn"):
        _place(session, make_idea(session, call, title=f"Idée non publique {status}", status=status), 50.64, 5.57)
    make_idea(session, call, title="Une idée sans lieu")
    session.commit()

    response = client.get(f"/api/calls/{call.slug}/ideas.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    data = json.loads(response.text)
    assert data["type"] == "FeatureCollection"
    by_title = {f["properties"]["title"]: f for f in data["features"]}
    assert set(by_title) == {"Un abri vélo place Saint-Lambert", "Des bancs au parc d'Avroy"}
    feature = by_title["Un abri vélo place Saint-Lambert"]
    assert feature["type"] == "Feature" and feature["id"] == public.id
    assert feature["geometry"] == {"type": "Point", "coordinates": [5.5736, 50.6455]}  # longitude first
    assert feature["properties"]["url"] == f"http://testserver/ideas/{public.id}"
    assert feature["properties"]["place"] == "Place Saint-Lambert"
    # The list's filters apply.
    filtered = json.loads(client.get(f"/api/calls/{call.slug}/ideas.geojson?category={theme.id}").text)
    assert [f["id"] for f in filtered["features"]] == [public.id]

    page = client.get(f"/calls/{call.slug}/map")
    assert page.status_code == 200
    assert "Un abri vélo place Saint-Lambert" in page.text and 'data-lat="50.6455"' in page.text
    assert "Idée cachée" not in page.text and "Idée non publique" not in page.text
    assert "1 autre idée n’indique pas où elle se trouve." in page.text
    assert f'href="/ideas/{public.id}"' in page.text  # each place leads to its idea
    # The call page leads to the map, keeping its filters.
    assert f'href="/calls/{call.slug}/map?category={theme.id}' in client.get(
        f"/calls/{call.slug}?category={theme.id}").text


def test_a_draft_call_has_no_public_map_nor_geojson(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="draft")
    session.commit()
    assert client.get(f"/calls/{call.slug}/map").status_code == 404
    assert client.get(f"/api/calls/{call.slug}/ideas.geojson").status_code == 404


def test_the_csp_allows_exactly_the_configured_tile_host(settings: Settings) -> None:
    def img_src(tile_url: str) -> str:
        policy = content_security_policy(settings.model_copy(update={"map_tile_url": tile_url}))
        return next(d for d in policy.split("; ") if d.startswith("img-src "))

    assert img_src("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "img-src 'self' data: blob: https://tile.openstreetmap.org")
    assert img_src("http://localhost:8081/tiles/{z}/{x}/{y}.png") == "img-src 'self' data: blob: http://localhost:8081"
    assert img_src("https://{s}.tiles.example.org/{z}/{x}/{y}.png") == (
        "img-src 'self' data: blob: https://*.tiles.example.org")
    assert img_src("") == "img-src 'self' data: blob:"
    assert img_src("javascript:alert(1)") == "img-src 'self' data: blob:"


def test_the_pages_carry_the_policy_with_the_tile_host(client: WebClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy


def test_an_administrator_sets_a_calls_location_rule(client: WebClient, session: Session) -> None:
    call = make_call(session)
    admin = make_user(session, role=Role.admin)
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    assert client.submit(f"/admin/calls/{call.id}/map", {"location_mode": "required"}).status_code == 403
    client.login_as(admin)
    assert f'href="/admin/calls/{call.id}/map"' in client.get(f"/admin/calls/{call.id}").text
    refused = client.submit(f"/admin/calls/{call.id}/map", {"location_mode": "sometimes"})
    assert refused.status_code == 422 and "Choisissez l’une des options." in refused.text
    assert session.get(CallMap, call.id) is None
    assert client.submit(f"/admin/calls/{call.id}/map", {"location_mode": "required"}).status_code == 303
    session.expire_all()
    assert session.get(CallMap, call.id).location_mode == "required"  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "map_settings")).one()
    assert entry.actor_id == admin.id and entry.details == {"location_mode": ["off", "required"]}


def test_an_administrator_adds_and_removes_places(client: WebClient, session: Session) -> None:
    call = make_call(session)
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    bad = client.submit("/admin/maps/places", {"call_id": str(call.id), "place_name": "Gare",
                                               "latitude": "150", "longitude": "5.56"})
    assert bad.status_code == 422 and "Indiquez une latitude entre -90 et 90 degrés." in bad.text
    assert client.submit("/admin/maps/places", {"call_id": str(call.id), "place_name": "Gare des Guillemins",
                                                "latitude": "50.6244", "longitude": "5.5667"}).status_code == 303
    place = session.exec(select(MapPlace)).one()
    assert (place.call_id, place.name) == (call.id, "Gare des Guillemins")
    assert "Gare des Guillemins" in client.get(f"/admin/calls/{call.id}/map").text
    assert client.submit(f"/admin/maps/places/{place.id}/delete", {}).status_code == 303
    session.expire_all()
    assert session.exec(select(MapPlace)).first() is None


def test_a_malformed_tile_url_adds_nothing_to_the_policy_and_breaks_no_page(settings: Settings) -> None:
    # A tile setting with a bad port once raised on every page (the policy is on each response);
    # one with ";" or a space could add directives of its own. Neither is a tile host.
    for tile_url in ("https://tiles.example.org:99999/{z}/{x}/{y}.png",
                     "https://tiles.example.org;script-src *;/{z}/{x}/{y}.png",
                     "https://tiles.example.org {z}/{x}/{y}.png",
                     "https://[::1]:8080/{z}/{x}/{y}.png"):
        policy = content_security_policy(settings.model_copy(update={"map_tile_url": tile_url}))
        assert "img-src 'self' data: blob:;" in policy, tile_url
        assert policy.count("script-src") == 1, tile_url


def test_the_call_page_links_its_map_only_when_there_is_one(client: WebClient, session: Session) -> None:
    # A call that never asked for locations has no map worth a link; one that asks has, and so
    # has one that stopped asking while some of its ideas still carry a place.
    make_call(session, slug="sans-carte")
    located = make_call(session, slug="avec-carte")
    session.add(CallMap(call_id=located.id, location_mode="optional"))
    stopped = make_call(session, slug="carte-arretee")
    session.add(CallMap(call_id=stopped.id, location_mode="off"))
    _place(session, make_idea(session, stopped, make_user(session)), 50.64, 5.57)
    session.commit()
    hidden_only = make_call(session, slug="carte-masquee")
    session.add(CallMap(call_id=hidden_only.id, location_mode="off"))
    _place(session, make_idea(session, hidden_only, make_user(session), hidden_at=utcnow()), 50.64, 5.57)
    session.commit()
    link = "Voir les idées sur une carte"
    assert link not in client.get("/calls/sans-carte").text
    assert link in client.get("/calls/avec-carte").text
    assert link in client.get("/calls/carte-arretee").text
    assert link not in client.get("/calls/carte-masquee").text  # a hidden idea's place is nobody's to see
    # Kept per page generation, so asked again after every support: whether one located idea
    # exists (LIMIT 1), never how many (a count read every located idea of the call).
    with counting(client.db.engine) as seen:
        assert maps_queries.has_map(session, stopped)
    assert seen and not any("count(" in statement.lower() for statement in seen), seen
    assert any("LIMIT" in statement for statement in seen), seen


def test_the_districts_outlines_are_served_for_the_maps_to_draw(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    session.add(CallMap(call_id=call.id, location_mode="optional"))
    _place(session, make_idea(session, call, title="Un abri vélo place Saint-Lambert"), 50.6455, 5.5736)
    session.commit()
    # None imported: an empty collection, and the maps ask for nothing.
    empty = client.get("/api/districts.geojson")
    assert empty.status_code == 200 and empty.headers["content-type"].startswith("application/geo+json")
    assert json.loads(empty.text) == {"type": "FeatureCollection", "features": []}
    assert "data-outlines-url" not in client.get(f"/calls/{call.slug}/map").text

    centre = make_district(session, name="Centre")
    make_district(session, name="Sans contour")
    ring = [[5.56, 50.64], [5.59, 50.64], [5.59, 50.65], [5.56, 50.65], [5.56, 50.64]]
    session.add(DistrictBoundary(district_id=centre.id, geometry={"type": "Polygon", "coordinates": [ring]},
                                 min_lon=5.56, min_lat=50.64, max_lon=5.59, max_lat=50.65))
    session.commit()
    data = json.loads(client.get("/api/districts.geojson").text)
    assert data == {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": centre.id, "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"id": centre.id, "slug": centre.slug, "name": "Centre"}}]}
    # The call's map and the idea form's picker draw them from the platform (no other host), and
    # the map page says in words what the lines are.
    page = client.get(f"/calls/{call.slug}/map").text
    assert 'data-outlines-url="/api/districts.geojson"' in page
    assert "Les lignes sur la carte sont les contours des quartiers" in page
    open_call = make_call(session, slug="appel-ouvert")
    session.add(CallMap(call_id=open_call.id, location_mode="optional"))
    client.login_as(make_user(session))
    session.commit()
    assert 'data-outlines-url="/api/districts.geojson"' in client.get("/calls/appel-ouvert/ideas/new").text


def test_an_administrator_edits_a_place_audited_and_bad_input_changes_nothing(
        client: WebClient, session: Session) -> None:
    call = make_call(session)
    admin = make_user(session, role=Role.admin)
    moderator = make_user(session, role=Role.moderator)
    city = MapPlace(call_id=None, name="Gare des Guillemins", latitude=50.6244, longitude=5.5667)
    own = MapPlace(call_id=call.id, name="Place du Marché", latitude=50.6457, longitude=5.5756)
    session.add(city)
    session.add(own)
    session.commit()
    # Moderators neither see nor send the form.
    client.login_as(moderator)
    assert client.get(f"/admin/maps/places/{city.id}").status_code == 403
    assert client.submit(f"/admin/maps/places/{city.id}", {"place_name": "X", "latitude": "50",
                                                           "longitude": "5"}).status_code == 403
    client.login_as(admin)
    # Each place of the list leads to its form, shown with its values.
    assert f'href="/admin/maps/places/{city.id}"' in client.get("/admin/maps").text
    assert f'href="/admin/maps/places/{own.id}"' in client.get(f"/admin/calls/{call.id}/map").text
    form = client.get(f"/admin/maps/places/{own.id}").text
    assert "Modifier le lieu Place du Marché" in form and 'value="50.6457"' in form
    # Bad input: said in French, shown again as typed, nothing changed nor audited.
    bad = client.submit(f"/admin/maps/places/{own.id}", {"place_name": " ", "latitude": "50,64",
                                                         "longitude": "500"})
    assert bad.status_code == 422
    assert "Donnez au lieu un nom de 120 caractères au plus." in bad.text
    assert "Indiquez une longitude entre -180 et 180 degrés." in bad.text
    assert 'value="50,64"' in bad.text
    session.expire_all()
    assert (session.get(MapPlace, own.id).name, session.get(MapPlace, own.id).longitude) == (  # type: ignore[union-attr]
        "Place du Marché", 5.5756)
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "map_settings")).first() is None
    # Renamed and moved (a decimal comma taken): back to the call's page, audited with the changes.
    saved = client.submit(f"/admin/maps/places/{own.id}", {"place_name": "Marché  de la Batte",
                                                           "latitude": "50,6452", "longitude": "5.5775"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/calls/{call.id}/map"
    session.expire_all()
    place = session.get(MapPlace, own.id)
    assert place is not None and (place.name, place.latitude, place.longitude) == ("Marché de la Batte", 50.6452,
                                                                                   5.5775)
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "map_settings")).one()
    assert entry.actor_id == admin.id and entry.target_id == call.id
    assert entry.details == {"place_edited": own.id, "name": ["Place du Marché", "Marché de la Batte"],
                             "latitude": [50.6457, 50.6452], "longitude": [5.5756, 5.5775]}
    # The city's place goes back to the city's page; saved unchanged, nothing more is audited.
    same = client.submit(f"/admin/maps/places/{city.id}", {"place_name": "Gare des Guillemins",
                                                           "latitude": "50.6244", "longitude": "5.5667"})
    assert same.headers["location"] == "/admin/maps"
    session.expire_all()
    assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "map_settings")).all()) == 1
    assert client.get("/admin/maps/places/999999").status_code == 404
