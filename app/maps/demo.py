"""The demonstration's share of maps: Liège's ideas placed on the map, a few named places, the
location asked in the demo calls, and district outlines.

Coordinates are of real places of Liège (WGS 84 degrees). The district outlines are APPROXIMATE:
a rectangle of about 500 m around each district's centre, for showing the district suggestion,
not the city's official boundaries."""

from sqlmodel import Session, col, select

from app.call.models import Call, District
from app.demo_context import DemoContext
from app.idea.models import Idea
from app.maps.models import CallMap, DistrictBoundary, IdeaLocation, LocationMode, MapPlace

PLACES = (
    ("Place Saint-Lambert", 50.6455, 5.5736),
    ("Place du Marché", 50.6457, 5.5756),
    ("Gare des Guillemins", 50.6244, 5.5667),
    ("Parc d'Avroy", 50.6365, 5.5688),
    ("Parc de la Boverie", 50.6335, 5.5790),
    ("Place Cathédrale", 50.6413, 5.5716),
)
# A district's approximate centre (latitude, longitude).
DISTRICT_CENTRES = {
    "Angleur": (50.6117, 5.5981), "Avroy": (50.6370, 5.5680), "Bressoux": (50.6440, 5.6070),
    "Burenville": (50.6262, 5.5445), "Centre": (50.6437, 5.5722), "Chênée": (50.6120, 5.6150),
    "Cointe": (50.6230, 5.5560), "Droixhe": (50.6540, 5.6050), "Fétinne": (50.6240, 5.5880),
    "Glain": (50.6400, 5.5300), "Grivegnée": (50.6220, 5.6050), "Guillemins": (50.6250, 5.5660),
    "Jupille": (50.6450, 5.6350), "Laveu": (50.6318, 5.5545), "Longdoz": (50.6330, 5.5900),
    "Outremeuse": (50.6395, 5.5850), "Rocourt": (50.6800, 5.5550), "Sainte-Marguerite": (50.6480, 5.5550),
    "Sainte-Walburge": (50.6630, 5.5650), "Sclessin": (50.6130, 5.5560), "Thier-à-Liège": (50.6620, 5.5950),
    "Vennes": (50.6170, 5.5890), "Wandre": (50.6680, 5.6550),
}
HALF_LAT, HALF_LON = 0.0022, 0.0035  # about 245 m either way at Liège's latitude; none overlap
# Ideas about a precise place, by title: (label, latitude, longitude).
PRECISE = {
    "Wi-Fi public gratuit place Saint-Lambert": ("Place Saint-Lambert", 50.6455, 5.5736),
    "Des bancs sur la place du Marché": ("Place du Marché", 50.6457, 5.5756),
    "Rénover l'aire de jeux du parc d'Avroy": ("Parc d'Avroy", 50.6365, 5.5688),
    "Écrans d'information en temps réel aux arrêts de bus": ("Gare des Guillemins", 50.6244, 5.5667),
    "Des pistes cyclables séparées sur les quais": ("Quai de la Batte", 50.6447, 5.5790),
    "Des boîtes à livres dans les parcs": ("Parc de la Boverie", 50.6335, 5.5790),
    "Planter des arbres le long du quai de Fétinne": ("Quai de Fétinne", 50.6262, 5.5868),
}
DEMO_CALLS = ("reinventons-liege", "liege-2030-quartiers", "budget-participatif-2025")


def _rectangle(lat: float, lon: float) -> dict[str, object]:
    ring = [[lon - HALF_LON, lat - HALF_LAT], [lon + HALF_LON, lat - HALF_LAT], [lon + HALF_LON, lat + HALF_LAT],
            [lon - HALF_LON, lat + HALF_LAT], [lon - HALF_LON, lat - HALF_LAT]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def seed_maps(session: Session, _context: DemoContext) -> None:
    """Ask for locations in the demo calls, add the named places, the districts' approximate
    outlines, and place the demo's ideas: at their precise place, else near their district's
    centre (each a little apart), else not at all."""
    for call in session.exec(select(Call).where(col(Call.slug).in_(DEMO_CALLS))):
        assert call.id is not None
        session.add(CallMap(call_id=call.id, location_mode=LocationMode.optional))
    for name, lat, lon in PLACES:
        session.add(MapPlace(name=name, latitude=lat, longitude=lon))
    districts = {d.id: d for d in session.exec(select(District))}
    for district in districts.values():
        centre = DISTRICT_CENTRES.get(district.name)
        if centre and district.id is not None:
            lat, lon = centre
            session.add(DistrictBoundary(district_id=district.id, geometry=_rectangle(lat, lon),
                                         min_lon=lon - HALF_LON, min_lat=lat - HALF_LAT,
                                         max_lon=lon + HALF_LON, max_lat=lat + HALF_LAT))
    for index, idea in enumerate(session.exec(select(Idea).order_by(col(Idea.id)))):
        assert idea.id is not None
        if idea.title in PRECISE:
            label, lat, lon = PRECISE[idea.title]
        elif idea.district_id is not None and districts[idea.district_id].name in DISTRICT_CENTRES:
            label = districts[idea.district_id].name
            lat, lon = DISTRICT_CENTRES[label]
            # A few dozen metres apart, so that ideas of one district are not on one point.
            lat, lon = lat + ((index % 5) - 2) * 0.0004, lon + ((index % 3) - 1) * 0.0006
        else:
            continue
        session.add(IdeaLocation(idea_id=idea.id, latitude=round(lat, 6), longitude=round(lon, 6), label=label))
    session.flush()
