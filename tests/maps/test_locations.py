"""An idea's location through the idea form, without JavaScript: coordinates, a place from the
list, an address looked up by a geocoder (a stand-in Nominatim on loopback), the call's rule."""

from collections.abc import Iterator

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.idea.models import Idea
from app.main import create_app
from app.maps.models import IdeaLocation, LocationMode, MapPlace
from app.settings import Settings
from tests.factories import make_call, make_user
from tests.maps.support import call_with_locations, fake_nominatim, form_fields
from tests.support import WebClient, exported_data, free_port

BODY = "Installer des bancs à l'ombre sur la place pour les personnes âgées."


def _idea_form(title: str = "Des bancs sur la place", **fields: str) -> dict[str, str]:
    return {"title": title, "body_md": BODY, "action": "submit", **fields}


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_an_idea_placed_by_its_coordinates_shows_its_place(client: WebClient, session: Session) -> None:
    call = call_with_locations(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert 'name="latitude"' in form and 'name="longitude"' in form and "Où est-ce" in form
    assert 'name="address"' not in form  # no geocoder configured: no address field
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(
        latitude="50,6455", longitude="5.5736", place_label="Place Saint-Lambert"))
    assert response.status_code == 303
    idea = session.exec(select(Idea)).one()
    location = session.get(IdeaLocation, idea.id)
    assert location is not None
    assert (location.latitude, location.longitude, location.label) == (50.6455, 5.5736, "Place Saint-Lambert")
    page = client.get(f"/ideas/{idea.id}").text
    assert "Place Saint-Lambert" in page and 'data-lat="50.6455"' in page and "/static/js/map.js" in page


@pytest.mark.parametrize(("latitude", "longitude", "message"), [
    ("91", "5.57", "Indiquez une latitude entre -90 et 90 degrés."),
    ("50.64", "-180.5", "Indiquez une longitude entre -180 et 180 degrés."),
    ("nord", "5.57", "Indiquez une latitude entre -90 et 90 degrés."),
    ("nan", "5.57", "Indiquez une latitude entre -90 et 90 degrés."),
])
def test_coordinates_out_of_range_are_refused_and_nothing_is_written(
        client: WebClient, session: Session, latitude: str, longitude: str, message: str) -> None:
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude=latitude, longitude=longitude))
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{latitude}"' in response.text  # what was typed is shown again
    assert _count(session, Idea) == 0 and _count(session, IdeaLocation) == 0


def test_a_call_requiring_a_location_refuses_an_idea_without_one_but_keeps_drafts(
        client: WebClient, session: Session) -> None:
    call = call_with_locations(session, LocationMode.required)
    client.login_as(make_user(session))
    session.commit()
    refused = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form())
    assert refused.status_code == 422
    assert "Cet appel demande où se trouve votre idée" in refused.text
    assert _count(session, Idea) == 0
    draft = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(action="draft"))
    assert draft.status_code == 303
    idea = session.exec(select(Idea)).one()
    assert session.get(IdeaLocation, idea.id) is None
    # Submitting the draft later asks for the place; given, the idea is published with it.
    again = client.submit(f"/ideas/{idea.id}/edit", _idea_form(action="submit"))
    assert again.status_code == 422
    placed = client.submit(f"/ideas/{idea.id}/edit", _idea_form(action="submit", latitude="50.6411",
                                                                  longitude="5.5714"))
    assert placed.status_code == 303
    session.expire_all()
    assert session.get(IdeaLocation, idea.id) is not None
    assert session.get(Idea, idea.id).status == "published"  # type: ignore[union-attr]


def test_a_call_without_locations_shows_no_location_fields_and_ignores_them(
        client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    assert 'name="latitude"' not in client.get(f"/calls/{call.slug}/ideas/new").text
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude="50.6", longitude="5.5"))
    assert response.status_code == 303
    assert _count(session, IdeaLocation) == 0


def test_an_idea_placed_at_a_place_from_the_list(client: WebClient, session: Session) -> None:
    call = call_with_locations(session)
    other = make_call(session)
    city_place = MapPlace(name="Gare des Guillemins", latitude=50.6244, longitude=5.5667)
    elsewhere = MapPlace(call_id=other.id, name="Ailleurs", latitude=50.0, longitude=5.0)
    session.add_all([city_place, elsewhere])
    author = make_user(session)
    session.commit()
    client.login_as(author)
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert "Gare des Guillemins" in form and "Ailleurs" not in form
    # A place of another call is refused, nothing written.
    refused = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(place_id=str(elsewhere.id)))
    assert refused.status_code == 422 and "Choisissez un lieu dans la liste." in refused.text
    assert _count(session, Idea) == 0
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(place_id=str(city_place.id)))
    assert response.status_code == 303
    idea = session.exec(select(Idea)).one()
    location = session.get(IdeaLocation, idea.id)
    assert location is not None
    assert (location.latitude, location.longitude, location.label) == (50.6244, 5.5667, "Gare des Guillemins")


def test_the_author_moves_and_removes_the_location_when_editing(client: WebClient, session: Session) -> None:
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude="50.6455", longitude="5.5736"))
    idea = session.exec(select(Idea)).one()
    edit = client.get(f"/ideas/{idea.id}/edit").text
    assert 'value="50.6455"' in edit and "Supprimer l’emplacement" in edit
    moved = client.submit(f"/ideas/{idea.id}/edit", _idea_form(action="save", latitude="50.6411", longitude="5.5714"))
    assert moved.status_code == 303
    session.expire_all()
    assert session.get(IdeaLocation, idea.id).latitude == 50.6411  # type: ignore[union-attr]
    cleared = client.submit(f"/ideas/{idea.id}/edit", _idea_form(action="save", location_clear="1"))
    assert cleared.status_code == 303
    assert _count(session, IdeaLocation) == 0


@pytest.fixture
def geocoding_client(settings: Settings) -> Iterator[tuple[WebClient, object]]:
    """A client of an app whose geocoder is a stand-in Nominatim on loopback."""
    places = {"Place Saint-Lambert, Liège": ("50.6455", "5.5736", "Place Saint-Lambert, Liège, Belgique")}
    with fake_nominatim(places) as fake:
        app = create_app(settings.model_copy(update={"geocoder_url": fake.url, "geocoder_timeout_ms": 2000}))
        with WebClient(app, base_url="http://testserver") as web:
            yield web, fake


def test_an_idea_placed_by_its_address_through_a_stand_in_nominatim(
        geocoding_client: tuple[WebClient, object], session: Session) -> None:
    client, fake = geocoding_client
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    assert 'name="address"' in client.get(f"/calls/{call.slug}/ideas/new").text
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(address="Place Saint-Lambert, Liège"))
    assert response.status_code == 303
    idea = session.exec(select(Idea)).one()
    location = session.get(IdeaLocation, idea.id)
    assert location is not None
    assert (location.latitude, location.longitude) == (50.6455, 5.5736)
    assert location.label == "Place Saint-Lambert, Liège, Belgique"
    asked = fake.queries[-1]  # type: ignore[attr-defined]
    assert asked["q"] == ["Place Saint-Lambert, Liège"] and asked["format"] == ["jsonv2"]


def test_an_address_not_found_is_refused_and_nothing_is_written(
        geocoding_client: tuple[WebClient, object], session: Session) -> None:
    client, _fake = geocoding_client
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(address="Rue qui n'existe pas"))
    assert response.status_code == 422
    assert "Aucun lieu n’a été trouvé à cette adresse." in response.text
    assert _count(session, Idea) == 0


def test_an_unreachable_geocoder_is_a_clear_refusal(settings: Settings, session: Session) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = create_app(settings.model_copy(update={"geocoder_url": closed, "geocoder_timeout_ms": 500}))
    call = call_with_locations(session)
    author = make_user(session)
    session.commit()
    with WebClient(app, base_url="http://testserver") as client:
        client.login_as(author)
        response = client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(address="Place du Marché, Liège"))
    assert response.status_code == 422
    assert "L’adresse n’a pas pu être cherchée pour l’instant." in response.text
    assert _count(session, Idea) == 0


def test_the_location_is_in_the_authors_export_and_goes_with_the_idea(client: WebClient, session: Session) -> None:
    call = call_with_locations(session)
    author = make_user(session, password="un mot de passe d'auteur")
    session.commit()
    client.login_as(author)
    client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude="50.6455", longitude="5.5736",
                                                            place_label="Place Saint-Lambert"))
    idea = session.exec(select(Idea)).one()
    data = exported_data(client.submit("/account/export").content)
    [exported] = [i for i in data["ideas"] if i["id"] == idea.id]
    assert exported["location"] == {"latitude": 50.6455, "longitude": 5.5736, "label": "Place Saint-Lambert"}
    session.delete(idea)  # the location goes with its idea (ON DELETE CASCADE)
    session.commit()
    assert _count(session, IdeaLocation) == 0


def test_remove_the_location_works_from_the_edit_form_as_shown(client: WebClient, session: Session) -> None:
    # The edit form shows the current coordinates in their fields; ticking "Remove the location"
    # and sending the form as the browser does (those fields still filled) removes it.
    call = call_with_locations(session)
    client.login_as(make_user(session))
    session.commit()
    client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude="50.6455", longitude="5.5736",
                                                               place_label="Place Saint-Lambert"))
    idea = session.exec(select(Idea)).one()
    fields = form_fields(client.get(f"/ideas/{idea.id}/edit").text)
    assert fields["latitude"] == "50.6455" and fields["place_label"] == "Place Saint-Lambert"
    response = client.post(f"/ideas/{idea.id}/edit", data={**fields, "action": "save", "location_clear": "1"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert _count(session, IdeaLocation) == 0
    assert "Place Saint-Lambert" not in client.get(f"/ideas/{idea.id}").text


def test_a_required_location_cannot_be_removed_from_the_edit_form(client: WebClient, session: Session) -> None:
    call = call_with_locations(session, LocationMode.required)
    client.login_as(make_user(session))
    session.commit()
    client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(latitude="50.6455", longitude="5.5736"))
    idea = session.exec(select(Idea)).one()
    fields = form_fields(client.get(f"/ideas/{idea.id}/edit").text)
    response = client.post(f"/ideas/{idea.id}/edit", data={**fields, "action": "save", "location_clear": "1"},
                           follow_redirects=False)
    assert response.status_code == 422 and "Cet appel demande où se trouve votre idée" in response.text
    assert _count(session, IdeaLocation) == 1


def test_choosing_another_place_when_editing_names_the_new_place(client: WebClient, session: Session) -> None:
    # The edit form shows the old place's name in "Name of the place"; choosing another place
    # from the list, the idea is named after the new place, not the old one.
    call = call_with_locations(session)
    avroy = MapPlace(name="Parc d'Avroy", latitude=50.6365, longitude=5.5688)
    gare = MapPlace(name="Gare des Guillemins", latitude=50.6244, longitude=5.5667)
    session.add_all([avroy, gare])
    client.login_as(make_user(session))
    session.commit()
    client.submit(f"/calls/{call.slug}/ideas/new", _idea_form(place_id=str(avroy.id)))
    idea = session.exec(select(Idea)).one()
    fields = form_fields(client.get(f"/ideas/{idea.id}/edit").text)
    assert fields["place_label"] == "Parc d'Avroy"
    response = client.post(f"/ideas/{idea.id}/edit", data={**fields, "action": "save", "place_id": str(gare.id)},
                           follow_redirects=False)
    assert response.status_code == 303
    session.expire_all()
    location = session.get(IdeaLocation, idea.id)
    assert location is not None
    assert (location.latitude, location.longitude, location.label) == (50.6244, 5.5667, "Gare des Guillemins")
    # A name the author types themselves is kept.
    fields = form_fields(client.get(f"/ideas/{idea.id}/edit").text)
    client.post(f"/ideas/{idea.id}/edit", data={**fields, "action": "save", "place_id": str(avroy.id),
                                                "place_label": "Devant l'entrée du parc"}, follow_redirects=False)
    session.expire_all()
    assert session.get(IdeaLocation, idea.id).label == "Devant l'entrée du parc"  # type: ignore[union-attr]


def test_the_form_gives_its_script_each_places_point_escaped(client: WebClient, session: Session) -> None:
    # The picker suggests the district of a place chosen from the list from its point, given in
    # an attribute; a place's name never reaches it (nothing to escape out of the attribute).
    call = call_with_locations(session)
    place = MapPlace(call_id=call.id, name='Le "Carré" <b>', latitude=50.6413, longitude=5.5716)
    session.add(place)
    client.login_as(make_user(session))
    session.commit()
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert f'data-place-points="{{&#34;{place.id}&#34;: [50.6413, 5.5716]}}"' in form
    assert "<b>" not in form.split('id="location-map"')[1].split(">")[0]
