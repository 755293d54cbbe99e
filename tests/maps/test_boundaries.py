"""District outlines: administrators import GeoJSON; a bad file is refused with the reason and
writes nothing; an idea's district is suggested from its point (holes and MultiPolygons too)."""

import json
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.account.models import Role
from app.audit import AuditEntry
from app.idea.models import Idea
from app.maps import geo
from app.maps.models import DistrictBoundary
from tests.factories import make_district, make_user
from tests.maps.support import call_with_locations, form_fields
from tests.support import WebClient

# Rough squares around two places of Liège, lon/lat (RFC 7946), the second with a hole.
CENTRE = [[[5.56, 50.64], [5.59, 50.64], [5.59, 50.65], [5.56, 50.65], [5.56, 50.64]]]
OUTREMEUSE = [[[5.58, 50.63], [5.60, 50.63], [5.60, 50.645], [5.58, 50.645], [5.58, 50.63]],
              [[5.585, 50.635], [5.59, 50.635], [5.59, 50.64], [5.585, 50.64], [5.585, 50.635]]]


def _collection(*features: tuple[str, dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"slug": key}, "geometry": geometry} for key, geometry in features]}).encode()


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_point_in_polygon_follows_outlines_and_holes() -> None:
    square = geo.polygons_of({"type": "Polygon", "coordinates": OUTREMEUSE})
    assert geo.polygons_contain(square, geo.Point(50.632, 5.59))  # inside the outline
    assert not geo.polygons_contain(square, geo.Point(50.6375, 5.5875))  # inside the hole
    assert not geo.polygons_contain(square, geo.Point(50.65, 5.59))  # north of it
    multi = geo.polygons_of({"type": "MultiPolygon", "coordinates": [CENTRE, OUTREMEUSE]})
    assert geo.polygons_contain(multi, geo.Point(50.6455, 5.5736))
    assert geo.bounding_box(multi) == (5.56, 50.63, 5.60, 50.65)


def test_an_administrator_imports_outlines_and_the_district_is_suggested(client: WebClient,
                                                                        session: Session) -> None:
    centre = make_district(session, name="Centre")
    outremeuse = make_district(session, name="Outremeuse")
    admin = make_user(session, role=Role.admin)
    call = call_with_locations(session)
    author = make_user(session)
    session.commit()
    client.login_as(admin)
    page = client.get("/admin/maps")
    assert page.status_code == 200 and "Contours des quartiers" in page.text
    response = client.submit("/admin/maps/boundaries", {}, files={"geojson": (
        "quartiers.geojson", _collection((centre.slug, {"type": "Polygon", "coordinates": CENTRE}),
                                         ("Outremeuse", {"type": "MultiPolygon", "coordinates": [OUTREMEUSE]})),
        "application/geo+json")})
    assert response.status_code == 303
    assert _count(session, DistrictBoundary) == 2
    assert "Contours importés pour 2 quartiers." in client.get(response.headers["location"]).text
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "boundaries_import")).one().actor_id == admin.id

    client.login_as(author)
    base = {"body_md": "Des bancs à l'ombre pour se reposer en ville.", "action": "submit"}
    # Place Saint-Lambert is in the centre's outline: its district is filled in.
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Au centre", "latitude": "50.6455",
                                                    "longitude": "5.5736"})
    # In Outremeuse's hole: no district suggested; a district chosen by the author is kept.
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Dans le trou", "latitude": "50.6375",
                                                    "longitude": "5.5875"})
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Choisi", "latitude": "50.632",
                                                    "longitude": "5.59", "district_id": str(centre.id)})
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Outremeuse", "latitude": "50.632",
                                                    "longitude": "5.59"})
    # The form's map picker asks the same suggestion of a small JSON route as the point moves.
    assert client.get("/maps/district?latitude=50.6455&longitude=5.5736").json() == {"id": centre.id, "name": "Centre"}
    assert client.get("/maps/district?latitude=50.6375&longitude=5.5875").json() == {"id": None}
    assert client.get("/maps/district?latitude=north&longitude=").json() == {"id": None}
    session.expire_all()
    districts = {i.title: i.district_id for i in session.exec(select(Idea))}
    assert districts == {"Au centre": centre.id, "Dans le trou": None, "Choisi": centre.id,
                         "Outremeuse": outremeuse.id}

    client.login_as(admin)
    # One district: the message in the singular (it said "1 quartiers").
    response = client.submit("/admin/maps/boundaries", {}, files={"geojson": (
        "centre.geojson", _collection((centre.slug, {"type": "Polygon", "coordinates": CENTRE})),
        "application/geo+json")})
    assert "Contours importés pour 1 quartier." in client.get(response.headers["location"]).text


BAD_FILES = [
    (b"{not json", "Le fichier n’est pas un GeoJSON valide"),
    (json.dumps({"type": "Feature"}).encode(), "Le fichier doit être une FeatureCollection GeoJSON"),
    (_collection(("centre", {"type": "LineString", "coordinates": [[5.5, 50.6], [5.6, 50.7]]})),
     "Chaque quartier doit être un Polygon ou un MultiPolygon"),
    (_collection(("centre", {"type": "Polygon", "coordinates": [[[5.5, 50.6], [5.6, 50.6], [5.6, 50.7]]]})),
     "Chaque quartier doit être un Polygon ou un MultiPolygon"),  # an open ring of three positions
    (_collection(("centre", {"type": "Polygon", "coordinates": [[[50.6, 5.5], [50.6, 95.0], [50.7, 95.0],
                                                                 [50.6, 5.5]]]})),
     "Chaque quartier doit être un Polygon ou un MultiPolygon"),  # lat/lon swapped: latitude 95
    (_collection(("nowhere", {"type": "Polygon", "coordinates": CENTRE})),
     "Chaque élément doit nommer un quartier existant"),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": CENTRE}}]}).encode(),
     "Chaque élément doit nommer son quartier"),
    # A good outline first, then a bad one: the whole file is refused.
    (_collection(("centre", {"type": "Polygon", "coordinates": CENTRE}),
                 ("centre", {"type": "Point", "coordinates": [5.57, 50.64]})),
     "Chaque quartier doit être un Polygon ou un MultiPolygon"),
    # Nested past what Python's JSON reader can follow (a RecursionError, once a 500).
    (b"[" * 100_000 + b"]" * 100_000, "Le fichier n’est pas un GeoJSON valide"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_a_bad_geojson_file_is_refused_and_nothing_is_written(client: WebClient, session: Session,
                                                               data: bytes, message: str) -> None:
    make_district(session, name="Centre").slug = "centre"
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    response = client.submit("/admin/maps/boundaries", {}, files={"geojson": ("q.geojson", data, "application/json")})
    assert response.status_code == 422
    assert message in response.text
    assert _count(session, DistrictBoundary) == 0
    assert _count(session, AuditEntry) == 0


def test_only_administrators_import_outlines(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    client.login_as(moderator)
    assert client.get("/admin/maps").status_code == 403
    response = client.submit("/admin/maps/boundaries", {}, files={"geojson": (
        "q.geojson", _collection(("x", {"type": "Polygon", "coordinates": CENTRE})), "application/json")})
    assert response.status_code == 403
    assert _count(session, DistrictBoundary) == 0


def test_the_whole_city_chosen_on_purpose_is_kept_though_the_point_is_in_a_district(
        client: WebClient, session: Session) -> None:
    # The picker's note says "You can change it above": a citizen who changes the suggested
    # district back to "The whole city" (the form's script marks it so) keeps it.
    centre = make_district(session, name="Centre")
    session.add(DistrictBoundary(district_id=centre.id, geometry={"type": "Polygon", "coordinates": CENTRE},
                                 min_lon=5.56, min_lat=50.64, max_lon=5.59, max_lat=50.65))
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert 'name="district_whole_city" value=""' in form
    base = {"body_md": "Des bancs à l'ombre pour se reposer en ville.", "action": "submit",
            "latitude": "50.6455", "longitude": "5.5736", "district_id": ""}
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Pour toute la ville", "district_whole_city": "1"})
    client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Sans choix"})
    session.expire_all()
    districts = {i.title: i.district_id for i in session.exec(select(Idea))}
    assert districts == {"Pour toute la ville": None, "Sans choix": centre.id}
    # Shown again after a refusal, the choice stays.
    refused = client.submit(f"/calls/{call.slug}/ideas/new", {**base, "title": "Non", "district_whole_city": "1"})
    assert refused.status_code == 422 and 'name="district_whole_city" value="1"' in refused.text
    # Edited later (the form sent as shown), the idea for the whole city stays so.
    idea = session.exec(select(Idea).where(Idea.title == "Pour toute la ville")).one()
    fields = form_fields(client.get(f"/ideas/{idea.id}/edit").text)
    edited = client.post(f"/ideas/{idea.id}/edit", data={**fields, "title": "Pour toute la ville, vraiment",
                                                         "action": "save"}, follow_redirects=False)
    assert edited.status_code == 303
    session.expire_all()
    assert session.get(Idea, idea.id).district_id is None  # type: ignore[union-attr]


def test_an_import_naming_unknown_districts_says_which(client: WebClient, session: Session) -> None:
    centre = make_district(session, name="Centre")
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    data = _collection((centre.slug, {"type": "Polygon", "coordinates": CENTRE}),
                       ("Atlantide", {"type": "Polygon", "coordinates": CENTRE}),
                       ("<b>Lémurie</b>", {"type": "Polygon", "coordinates": CENTRE}))
    response = client.submit("/admin/maps/boundaries", {}, files={"geojson": ("q.geojson", data, "application/json")})
    assert response.status_code == 422
    assert "Introuvables\u202f: Atlantide, &lt;b&gt;Lémurie&lt;/b&gt;." in response.text
    assert _count(session, DistrictBoundary) == 0


def test_the_pickers_district_lookups_are_limited_per_address(client: WebClient, session: Session) -> None:
    # The picker asks /maps/district at each point; an address asking more than 60 times a
    # minute (a script walking the city's outlines) is refused, in JSON, with when to come back.
    centre = make_district(session, name="Centre")
    session.add(DistrictBoundary(district_id=centre.id, geometry={"type": "Polygon", "coordinates": CENTRE},
                                 min_lon=5.56, min_lat=50.64, max_lon=5.59, max_lat=50.65))
    session.commit()
    url = "/maps/district?latitude=50.6455&longitude=5.5736"
    for _ in range(60):
        assert client.get(url).json() == {"id": centre.id, "name": "Centre"}
    refused = client.get(url)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json() == {"error": "Trop de tentatives. Veuillez patienter un instant puis réessayer.",
                              "status": 429}
    # Bad coordinates count too: nothing is free to ask past the limit.
    assert client.get("/maps/district?latitude=north&longitude=").status_code == 429
