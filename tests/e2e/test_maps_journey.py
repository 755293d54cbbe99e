"""Maps in a real browser (issue 16): a call's map page and an idea's small map pass every page
check before and after the map is shown (Leaflet is loaded only then), the map is worked with the
keyboard alone (Tab to the button, Enter, arrows, Tab to a marker, Enter opens the idea's card,
Enter follows its link), and the browser asks nothing of any host but the platform and the
configured tile server. The tile server is a stand-in on loopback named as such (every tile the
same small PNG), at "localhost" so that its host differs from the platform's "127.0.0.1".

Screenshots: test-artifacts/screenshots/call-map*-fr*.png, all-map*-fr*.png and idea-map-fr*.png
(each at phone and desktop size)."""

import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.call.models import Call
from app.clock import utcnow
from app.idea.models import Idea
from app.maps.models import DistrictBoundary, IdeaLocation, LocationMode, MapPlace
from tests.e2e.conftest import running_server
from tests.e2e.harness import E2EServer, assert_focus_visible, check_page, login_as, tab_to
from tests.factories import make_district, make_idea, make_user
from tests.maps.support import call_with_locations
from tests.support import free_port

pytestmark = pytest.mark.e2e

# Leaflet (147 KB) and leaflet.markercluster (34 KB), loaded once the visitor asks for the map.
MAP_JS_BUDGET = 220 * 1024
PLACES = [("Un abri vélo place Saint-Lambert", 50.6455, 5.5736, "Place Saint-Lambert"),
          ("Des arbres à la gare des Guillemins", 50.6244, 5.5667, "Gare des Guillemins"),
          ("Une fête de quartier en Outremeuse", 50.6406, 5.5840, "Outremeuse"),
          ("Des bancs au parc de la Boverie", 50.6335, 5.5790, "Parc de la Boverie")]


def _tile_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (226, 232, 226)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A stand-in tile server on loopback: every path answers the same 256x256 PNG. Yields its
    origin (http://localhost:PORT) and the paths it was asked for."""
    tile, asked = _tile_png(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tile_server: tuple[str, list[str]]) -> Iterator[E2EServer]:
    origin, _asked = tile_server
    with running_server(tmp_path_factory.mktemp("e2e-maps"), port=free_port(), suffix="e2e_maps", seed=False,
                        map_tile_url=f"{origin}/{{z}}/{{x}}/{{y}}.png",
                        map_tile_attribution="Stand-in tile server (tests)") as running:
        yield running


def _arrange(server: E2EServer, slug: str) -> tuple[str, int, str]:
    """A call with located ideas and a hidden one; returns its slug, an idea id and the hidden title."""
    with server.session() as s:
        call = call_with_locations(s, LocationMode.optional, phase="voting", slug=slug)
        author = make_user(s)
        first = 0
        for title, lat, lon, label in PLACES:
            idea = make_idea(s, call, author, title=title)
            assert idea.id is not None
            first = first or idea.id
            s.add(IdeaLocation(idea_id=idea.id, latitude=lat, longitude=lon, label=label))
        hidden = make_idea(s, call, author, title="Idée cachée par la modération", hidden_at=utcnow())
        assert hidden.id is not None
        s.add(IdeaLocation(idea_id=hidden.id, latitude=50.64, longitude=5.57))
        s.commit()
        return call.slug, first, hidden.title


def _hosts(page: Page) -> set[str]:
    seen: set[str] = set()
    page.on("request", lambda request: seen.add(urlsplit(request.url).netloc))
    return seen


def test_the_map_of_a_calls_ideas_with_the_keyboard_on_a_phone(
        server: E2EServer, page: Page, tile_server: tuple[str, list[str]]) -> None:
    slug, _first, hidden = _arrange(server, "carte-liege")
    with server.session() as s:
        # A district's outline north of the others' (clear of the picker tests' districts).
        north = make_district(s, name="Nord (test)")
        ring = [[5.55, 50.68], [5.60, 50.68], [5.60, 50.70], [5.55, 50.70], [5.55, 50.68]]
        s.add(DistrictBoundary(district_id=north.id, geometry={"type": "Polygon", "coordinates": [ring]},
                               min_lon=5.55, min_lat=50.68, max_lon=5.60, max_lat=50.70))
        s.commit()
    hosts = _hosts(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/calls/{slug}/map")
    check_page(page, "call-map")  # the list and the button; no map library yet
    assert hidden not in page.content()
    assert page.evaluate("() => typeof window.L") == "undefined"

    button = page.get_by_role("button", name="Afficher la carte")
    tab_to(page, button)
    page.keyboard.press("Enter")
    container = page.locator("#ideas-map.leaflet-container")
    expect(container).to_be_visible()
    expect(container).to_be_focused()
    assert_focus_visible(page)
    pins = page.locator("#ideas-map .map-pin, #ideas-map .marker-cluster")
    expect(pins.first).to_be_visible()
    # Four ideas, each a marker or counted in a cluster; the hidden one is nowhere.
    counted = page.evaluate("""() => [...document.querySelectorAll('#ideas-map .map-pin, #ideas-map .marker-cluster')]
        .reduce((n, el) => n + (el.classList.contains('marker-cluster') ? parseInt(el.textContent, 10) : 1), 0)""")
    assert counted == len(PLACES)
    # The districts' outlines are drawn from the platform, as lines that neither Tab nor a screen
    # reader stops at (the list names each idea's district), and the page says what they are.
    expect(container).to_have_attribute("data-outlines-drawn", "1")
    assert container.locator("path.map-outline").count() == 1
    assert container.locator(".leaflet-overlay-pane svg").get_attribute("aria-hidden") == "true"
    assert container.locator("path.leaflet-interactive").count() == 0
    expect(page.get_by_text("Les lignes sur la carte sont les contours des quartiers", exact=False)).to_be_visible()
    # The arrows move the map (the tiles follow), + zooms in.
    before = container.locator(".leaflet-map-pane").get_attribute("style")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)
    assert container.locator(".leaflet-map-pane").get_attribute("style") != before
    check_page(page, "call-map-shown", max_js_bytes=MAP_JS_BUDGET)

    # Tab reaches a marker; Enter opens its card with the link to the idea, focused; Enter follows it.
    marker = page.locator("#ideas-map .map-pin").first
    tab_to(page, marker, max_tabs=60)
    label = marker.get_attribute("aria-label")
    assert label in {p[0] for p in PLACES}
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup .map-popup")
    expect(popup).to_be_visible()
    link = popup.get_by_role("link", name=label)
    expect(link).to_be_focused()
    check_page(page, "call-map-popup", max_js_bytes=MAP_JS_BUDGET)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/ideas/" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(label or "")

    origin, asked = tile_server
    assert asked, "the tiles were asked of the configured tile server"
    assert hosts <= {urlsplit(server.url).netloc, urlsplit(origin).netloc}, hosts


def test_an_ideas_small_map_and_the_pages_policy(
        server: E2EServer, context: BrowserContext, page: Page, tile_server: tuple[str, list[str]]) -> None:
    slug, first, _hidden = _arrange(server, "carte-idee")
    hosts = _hosts(page)
    login_as(context, server, server.create_user())
    response = page.goto(f"/ideas/{first}")
    assert response is not None
    origin, _asked = tile_server
    assert f"img-src 'self' data: blob: {origin};" in response.headers["content-security-policy"]
    check_page(page, "idea-located")
    expect(page.get_by_text(PLACES[0][3], exact=True)).to_be_visible()
    page.get_by_role("button", name="Voir sur une carte").click()
    expect(page.locator("#idea-map .map-pin")).to_be_visible()
    expect(page.get_by_text("Stand-in tile server (tests)")).to_be_visible()
    check_page(page, "idea-map", max_js_bytes=MAP_JS_BUDGET)
    page.get_by_role("link", name="Toutes les idées de l’appel sur une carte").click()
    expect(page).to_have_url(f"{server.url}/calls/{slug}/map")
    assert hosts <= {urlsplit(server.url).netloc, urlsplit(origin).netloc}, hosts


def test_a_citizen_places_a_new_idea_with_the_keyboard_on_a_phone(
        server: E2EServer, context: BrowserContext, page: Page, tile_server: tuple[str, list[str]]) -> None:
    with server.session() as s:
        call = call_with_locations(s, LocationMode.optional, slug="carte-formulaire")
        s.add(MapPlace(call_id=call.id, name="Place Cathédrale", latitude=50.6413, longitude=5.5716))
        centre = make_district(s, name="Centre (test)")
        ring = [[5.55, 50.62], [5.60, 50.62], [5.60, 50.67], [5.55, 50.67], [5.55, 50.62]]
        s.add(DistrictBoundary(district_id=centre.id, geometry={"type": "Polygon", "coordinates": [ring]},
                               min_lon=5.55, min_lat=50.62, max_lon=5.60, max_lat=50.67))
        s.commit()
        centre_id = centre.id
        slug = call.slug
    hosts = _hosts(page)
    login_as(context, server, server.create_user())
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/calls/{slug}/ideas/new")
    check_page(page, "idea-form-location")
    page.get_by_label("Titre").fill("Un abri pour les vélos près de la cathédrale")
    page.get_by_label("Votre idée").fill("Un abri couvert et sûr pour une vingtaine de vélos, près des commerces.")
    # A place chosen from the list suggests its district already, without the map, and says so.
    page.get_by_label("Un lieu de la liste").select_option(label="Place Cathédrale")
    expect(page.get_by_label("Quartier")).to_have_value(str(centre_id))
    expect(page.locator("#location-district-note")).to_contain_text("Centre (test)")
    page.get_by_label("Un lieu de la liste").select_option(value="")
    tab_to(page, page.get_by_role("button", name="Choisir le lieu sur une carte"), max_tabs=80)
    page.keyboard.press("Enter")
    container = page.locator("#location-map.leaflet-container")
    expect(container).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    page.wait_for_timeout(400)
    check_page(page, "idea-form-location-map", max_js_bytes=MAP_JS_BUDGET)
    tab_to(page, page.get_by_role("button", name="Prendre le centre de la carte"), max_tabs=20)
    page.keyboard.press("Enter")
    latitude = float(page.get_by_label("Latitude").input_value())
    longitude = float(page.get_by_label("Longitude").input_value())
    assert 50.63 < latitude < 50.66 and 5.56 < longitude < 5.60  # Liège's centre, moved north a little
    expect(page.locator("#location-map .map-pin")).to_be_visible()
    # The district is suggested from the point, and said so.
    expect(page.get_by_label("Quartier")).to_have_value(str(centre_id))
    expect(page.locator("#location-district-note")).to_contain_text("Centre (test)")
    page.get_by_label("Nom du lieu (facultatif)").fill("Devant la cathédrale")
    with page.expect_navigation():
        page.get_by_role("button", name="Publier mon idée").click()
    expect(page.get_by_text("Devant la cathédrale", exact=True)).to_be_visible()
    with server.session() as s:
        placed = s.exec(select(IdeaLocation).where(IdeaLocation.label == "Devant la cathédrale")).one()
        assert (placed.latitude, placed.longitude) == (latitude, longitude)
    origin, _asked = tile_server
    assert hosts <= {urlsplit(server.url).netloc, urlsplit(origin).netloc}, hosts


def test_the_picker_follows_the_point_on_a_phone(
        server: E2EServer, context: BrowserContext, page: Page, tile_server: tuple[str, list[str]]) -> None:
    # A citizen first chooses a place in the list, then picks a point on the map instead: the
    # point is the place sent (the list's choice is undone), the district suggested follows the
    # point from one district to the next, and the zoom buttons are named in French.
    with server.session() as s:
        call = call_with_locations(s, LocationMode.optional, slug="carte-suivre")
        s.add(MapPlace(call_id=call.id, name="Place du Marché", latitude=50.6457, longitude=5.5756))
        ids = []
        # Two districts side by side at 5.586° E, south of 50.62° N (clear of the other tests').
        for name, west, east in (("Ouest (test)", 5.50, 5.586), ("Est (test)", 5.586, 5.70)):
            district = make_district(s, name=name)
            ring = [[west, 50.55], [east, 50.55], [east, 50.618], [west, 50.618], [west, 50.55]]
            s.add(DistrictBoundary(district_id=district.id, geometry={"type": "Polygon", "coordinates": [ring]},
                                   min_lon=west, min_lat=50.55, max_lon=east, max_lat=50.618))
            ids.append(district.id)
        s.commit()
        slug = call.slug
    login_as(context, server, server.create_user())
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Titre").fill("Un abri pour les vélos près du marché")
    page.get_by_label("Votre idée").fill("Un abri couvert et sûr pour une vingtaine de vélos, près des commerces.")
    page.get_by_label("Un lieu de la liste").select_option(label="Place du Marché")
    page.get_by_role("button", name="Choisir le lieu sur une carte").click()
    container = page.locator("#location-map.leaflet-container")
    expect(container).to_be_focused()
    expect(container.get_by_role("button", name="Zoom avant")).to_be_visible()
    expect(container.get_by_role("button", name="Zoom arrière")).to_be_visible()
    # The map opens on Liège (50.6326° N, 5.5797° E): moved south (80 px a press, about 0.003°
    # of latitude and 0.0045° of longitude at this zoom), it is over the west district.
    for _ in range(8):
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(300)  # Leaflet ignores a key while the last pan is under way
    centre = page.get_by_role("button", name="Prendre le centre de la carte")
    centre.click()
    expect(page.get_by_label("Un lieu de la liste")).to_have_value("")
    # Said to screen readers: the point chosen (a live region), in the fields' words.
    point = page.locator("#location-point-note")
    assert point.get_attribute("aria-live") == "polite"
    expect(point).to_have_text(f"Point choisi\u202f: latitude {page.get_by_label('Latitude').input_value()}, "
                               f"longitude {page.get_by_label('Longitude').input_value()}.")
    district = page.get_by_label("Quartier")
    expect(district).to_have_value(str(ids[0]))
    expect(page.locator("#location-district-note")).to_contain_text("Ouest (test)")
    # Moved east: the suggestion follows.
    container.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
    centre.click()
    expect(district).to_have_value(str(ids[1]))
    expect(page.locator("#location-district-note")).to_contain_text("Est (test)")
    # A district the citizen chooses themselves is theirs, "the whole city" too: moving the point
    # leaves it, and the server suggests none in its place.
    district.select_option(label="Ouest (test)")
    expect(page.locator("#location-district-note")).to_have_text("")
    centre.click()
    page.wait_for_timeout(400)
    expect(district).to_have_value(str(ids[0]))
    district.select_option(label="Toute la ville")
    centre.click()
    page.wait_for_timeout(400)
    expect(district).to_have_value("")
    check_page(page, "idea-form-picker-follows", max_js_bytes=MAP_JS_BUDGET)
    # Coordinates typed in the fields move the map there: its centre is then the typed point.
    page.get_by_label("Latitude").fill("50.6")
    page.get_by_label("Longitude").fill("5.6")
    page.get_by_label("Nom du lieu (facultatif)").focus()  # leaving the field sends "change"
    page.wait_for_timeout(400)
    expect(district).to_have_value("")  # still the citizen’s own choice: the whole city
    centre.click()
    latitude = float(page.get_by_label("Latitude").input_value())
    longitude = float(page.get_by_label("Longitude").input_value())
    assert abs(latitude - 50.6) < 1e-5 and abs(longitude - 5.6) < 1e-5, (latitude, longitude)
    with page.expect_navigation():
        page.get_by_role("button", name="Publier mon idée").click()
    with server.session() as s:
        placed = s.exec(select(IdeaLocation).order_by(IdeaLocation.updated_at.desc())).first()  # type: ignore[attr-defined]
        assert placed is not None
        assert (placed.latitude, placed.longitude) == (latitude, longitude)
        idea = s.get(Idea, placed.idea_id)
        assert idea is not None and idea.title == "Un abri pour les vélos près du marché"
        assert idea.district_id is None  # the whole city, as chosen


def test_every_calls_ideas_on_one_map_on_a_phone_and_a_desktop(
        server: E2EServer, page: Page, tile_server: tuple[str, list[str]]) -> None:
    # The calls' page leads to the map of every call's ideas; with the keyboard alone a visitor
    # filters it by call, shows the map and reaches a marker; the hidden idea is nowhere.
    slug, _first, hidden = _arrange(server, "carte-toutes")
    hosts = _hosts(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/calls")
    page.get_by_role("link", name="Les idées de tous les appels sur une carte").click()
    expect(page).to_have_url(f"{server.url}/map")
    check_page(page, "all-map")
    assert hidden not in page.content()
    with server.session() as s:
        call_id = s.exec(select(Call.id).where(Call.slug == slug)).one()
    page.get_by_label("Appel", exact=True).select_option(value=str(call_id))
    page.get_by_role("button", name="Afficher les idées").click()
    expect(page).to_have_url(re.compile(rf"/map\?call={call_id}&"))
    items = page.locator(".map-item")
    expect(items).to_have_count(len(PLACES))
    expect(items.first.locator(".map-item-call")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Afficher la carte"), max_tabs=80)
    page.keyboard.press("Enter")
    container = page.locator("#ideas-map.leaflet-container")
    expect(container).to_be_focused()
    expect(page.locator("#ideas-map .map-pin, #ideas-map .marker-cluster").first).to_be_visible()
    check_page(page, "all-map-shown", max_js_bytes=MAP_JS_BUDGET)
    origin, _asked = tile_server
    assert hosts <= {urlsplit(server.url).netloc, urlsplit(origin).netloc}, hosts


def test_an_administrator_edits_a_place_on_a_phone(server: E2EServer, context: BrowserContext, page: Page) -> None:
    with server.session() as s:
        s.add(MapPlace(call_id=None, name="Gare des Guillemins (test)", latitude=50.6244, longitude=5.5667))
        s.commit()
    login_as(context, server, server.create_user(role="admin"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/maps")
    check_page(page, "admin-maps")
    page.get_by_role("link", name="Modifier Gare des Guillemins (test)").click()
    check_page(page, "admin-map-place")
    page.get_by_label("Nom du lieu").fill("Gare de Liège-Guillemins (test)")
    page.get_by_label("Longitude").fill("5.5668")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le lieu est enregistré.")).to_be_visible()
    expect(page.get_by_text("Gare de Liège-Guillemins (test) (50.6244, 5.5668)")).to_be_visible()


def test_typed_coordinates_suggest_the_district_without_the_map(
        server: E2EServer, context: BrowserContext, page: Page) -> None:
    # Without showing the map (no map library loaded), coordinates typed in the fields suggest
    # the district whose outline holds them, said in the live region.
    with server.session() as s:
        call = call_with_locations(s, LocationMode.optional, slug="carte-saisie")
        south = make_district(s, name="Sud (test)")
        ring = [[5.50, 50.50], [5.70, 50.50], [5.70, 50.54], [5.50, 50.54], [5.50, 50.50]]
        s.add(DistrictBoundary(district_id=south.id, geometry={"type": "Polygon", "coordinates": [ring]},
                               min_lon=5.50, min_lat=50.50, max_lon=5.70, max_lat=50.54))
        s.commit()
        slug, south_id = call.slug, south.id
    login_as(context, server, server.create_user())
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Latitude").fill("50.52")
    page.get_by_label("Longitude").fill("5.6")
    page.get_by_label("Nom du lieu (facultatif)").focus()  # leaving the field sends "change"
    expect(page.get_by_label("Quartier")).to_have_value(str(south_id))
    expect(page.locator("#location-district-note")).to_contain_text("Sud (test)")
    assert page.evaluate("() => typeof window.L") == "undefined"
    check_page(page, "idea-form-district-typed")
