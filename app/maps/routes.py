"""Map pages: a call's ideas on a map (the list beside it stays the accessible way), its GeoJSON
in the open-data API, and the administrators' places, location rule and district outlines."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile as ReceivedFile

from app import authz, i18n, links
from app.authz import Action
from app.call import queries as call_queries
from app.call import service as call_service
from app.call.models import Call
from app.db import get_or_not_found, writes_on_read
from app.deps import AdminUser, AppSettings, CurrentUser, DbSession
from app.errors import RateLimited, ValidationFailed
from app.i18n import N_, N_plural
from app.idea import queries as idea_queries
from app.maps import geo, geocoder, queries, service
from app.maps.models import LocationMode, MapPlace
from app.params import parse_id
from app.ratelimit import service as ratelimit
from app.web import flash, redirect, render

router = APIRouter(tags=["maps"])

Text = Annotated[str, Form(max_length=300)]
MODE_LABELS = {
    LocationMode.off: N_("Not asked"),
    LocationMode.optional: N_("Optional"),
    LocationMode.required: N_("Required"),
}
GEOJSON_MEDIA_TYPE = "application/geo+json"  # RFC 7946 §12
# District lookups of the idea form's picker, a minute, per address: a person picks a point a
# second at most; many people behind one address (a library) stay well under it.
DISTRICT_LOOKUPS = 60


@router.get("/calls/{slug}/map", name="maps:call")
def call_map(request: Request, session: DbSession, user: CurrentUser, slug: str,
             category: str = "", district: str = "", status: str = "") -> HTMLResponse:
    """The call's located public ideas on a map, with the list's filters; the same ideas listed
    below it with their place (the way without a pointer, a screen or JavaScript)."""
    call = call_queries.visible_call_by_slug(session, slug, user)
    assert call.id is not None
    filters = idea_queries.clean_filters(category, district, status, "newest", "1", 0)
    found = queries.markers(session, call, filters)
    query_base = {k: v for k, v in (("category", filters.category_id), ("district", filters.district_id),
                                    ("status", filters.status)) if v}
    return render(request, "maps/call_map.html", {
        **_map_context(session, call, found, filters),
        "call": call, "query_base": query_base,
        "categories": call_service.categories_of(session, call.id),
    })


def _map_context(session: DbSession, calls: Call | list[int], found: list[queries.Marker],
                 filters: idea_queries.IdeaFilters) -> dict[str, Any]:
    """What both map pages show besides their call(s): the markers' cards, the shared filters,
    the ideas left out (past the markers' cap, or without a place), whether outlines exist."""
    counts = queries.map_counts(session, calls, filters, len(found))
    return {
        "markers": found, "filters": filters,
        "cards": {c.idea.id: c for c in idea_queries.cards_for(session, [m.idea for m in found])},
        "districts": call_service.all_districts(session),
        "status_filters": idea_queries.STATUS_FILTERS,
        "left_off": counts.left_off, "unlocated": counts.unlocated,
        "selection_public": set(queries.selection_public_ids(session, calls)),
        "outlines": service.has_outlines(session),
    }


def _public_calls(session: DbSession, call: str) -> tuple[list[Call], Call | None]:
    """The calls anyone may see, and the one chosen among them by id (None: every call)."""
    calls = call_queries.visible_calls(session, None)
    chosen_id = parse_id(call)
    return calls, next((c for c in calls if c.id == chosen_id), None)


@router.get("/map", name="maps:all")
def all_map(request: Request, session: DbSession, call: str = "", district: str = "",
            status: str = "") -> HTMLResponse:
    """Every public call's located public ideas together on one map, filtered by call, district
    and status (a theme belongs to one call: its page's map has that filter), and listed below
    it with their call and place, as on a call's map."""
    calls, chosen = _public_calls(session, call)
    ids = [c.id for c in ([chosen] if chosen else calls) if c.id is not None]
    filters = idea_queries.clean_filters("", district, status, "newest", "1", 0)
    found = queries.markers(session, ids, filters)
    query_base = {k: v for k, v in (("call", chosen.id if chosen else None), ("district", filters.district_id),
                                    ("status", filters.status)) if v}
    return render(request, "maps/call_map.html", {
        **_map_context(session, ids, found, filters),
        "call": None, "query_base": query_base, "categories": None,
        "call_choices": calls, "chosen_call": chosen, "calls_by_id": {c.id: c for c in calls},
    })


@router.get("/api/calls/{slug}/ideas.geojson", name="maps:geojson", tags=["open data"],
            summary="Located public ideas of a call, as GeoJSON",
            responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}, 404: {"description": "No such public call"}})
def call_geojson(request: Request, session: DbSession, settings: AppSettings, slug: str, category: str = "",
                 district: str = "", status: str = "") -> Response:
    """A FeatureCollection (RFC 7946) of the call's public ideas that have a location: Point
    geometries in [longitude, latitude], with the idea's id, title, status, supports, place and
    URL. Filters as on the list (category, district, status). At most 5,000 features, the newest
    first. Open data: anonymous, whoever asks."""
    call = call_queries.visible_call_by_slug(session, slug, None)
    filters = idea_queries.clean_filters(category, district, status, "newest", "1", 0)
    found = queries.markers(session, call, filters)
    body = queries.feature_collection(found, lambda idea_id: settings.absolute_url(links.idea_path(idea_id)),
                                      {call.id: call.slug} if call.id is not None else {})
    return JSONResponse(body, media_type=GEOJSON_MEDIA_TYPE)


@router.get("/api/ideas.geojson", name="maps:all_geojson", tags=["open data"],
            summary="Located public ideas of every public call, as GeoJSON",
            responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}})
def all_geojson(session: DbSession, settings: AppSettings, call: str = "", district: str = "",
                status: str = "") -> Response:
    """A FeatureCollection (RFC 7946) of the public ideas that have a location, in every public
    call (or the one whose id is `call`), as the call's GeoJSON with each idea's call slug
    ("call"). Filters: call, district, status (an unknown value is no filter). At most 5,000
    features, the newest first. Open data: anonymous, whoever asks."""
    calls, chosen = _public_calls(session, call)
    ids = [c.id for c in ([chosen] if chosen else calls) if c.id is not None]
    filters = idea_queries.clean_filters("", district, status, "newest", "1", 0)
    found = queries.markers(session, ids, filters)
    body = queries.feature_collection(found, lambda idea_id: settings.absolute_url(links.idea_path(idea_id)),
                                      {c.id: c.slug for c in calls if c.id is not None})
    return JSONResponse(body, media_type=GEOJSON_MEDIA_TYPE)


@router.get("/api/districts.geojson", name="maps:outlines", tags=["open data"],
            summary="Outlines of the city's districts, as GeoJSON",
            responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}})
def district_outlines(session: DbSession) -> Response:
    """A FeatureCollection (RFC 7946) of the district outlines administrators imported: Polygon
    or MultiPolygon geometries in [longitude, latitude], with the district's id, slug and name.
    The maps draw them (static/js/map.js); empty when none was imported. Open data: anonymous."""
    body = queries.outlines_collection(service.boundaries(session))
    return JSONResponse(body, media_type=GEOJSON_MEDIA_TYPE)


@router.get("/maps/district", name="maps:district", include_in_schema=False)
@writes_on_read  # each lookup is counted against the address (app.ratelimit), in the request's turn
def district_at(request: Request, session: DbSession, latitude: str = "", longitude: str = "") -> JSONResponse:
    """The district whose outline holds the point, for the idea form's map picker
    (static/js/map.js): {"id": 12, "name": "Centre"}, or {"id": null} when none does or the
    coordinates are not a point (no error: it is only a suggestion). Nothing about anyone: the
    answer depends on the point alone.

    At most DISTRICT_LOOKUPS a minute per address (app.ratelimit, counted whatever the point):
    past it, 429 with Retry-After and JSON {"error", "status"}; the picker then leaves the
    district as it is."""
    address = request.client.host if request.client else "unknown"
    key = f"maps-district:{address}"
    try:
        ratelimit.check(session, key, limit=DISTRICT_LOOKUPS, window=timedelta(minutes=1))
    except RateLimited as exc:
        return JSONResponse({"error": i18n.gettext(exc.message), "status": exc.status_code}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})
    ratelimit.record(session, key)
    session.commit()
    try:
        point = geo.parse_point(latitude, longitude)
    except ValidationFailed:
        point = None
    district = service.suggest_district(session, point) if point else None
    return JSONResponse({"id": district.id, "name": district.name} if district else {"id": None})


# ----------------------------------------------------------------------------------------------
# Administration


def _admin_context(session: DbSession, call: Call | None, errors: dict[str, str] | None = None,
                   values: dict[str, str] | None = None) -> dict[str, Any]:
    places = service.places_for(session, call.id if call and call.id else 0)
    return {
        "call": call, "errors": errors or {}, "values": values or {},
        "places": [p for p in places if p.call_id == (call.id if call else None)],
        "mode": service.location_mode(session, call.id) if call and call.id else None,
        "mode_labels": MODE_LABELS,
        "boundaries": service.boundaries(session) if call is None else [],
        "districts": call_service.all_districts(session) if call is None else [],
        "geocoder": None,
    }


@router.get("/admin/maps", name="maps:admin", include_in_schema=False)
def admin_maps(request: Request, session: DbSession, settings: AppSettings, user: AdminUser) -> HTMLResponse:
    authz.require(user, Action.map_manage)
    context = _admin_context(session, None)
    context["geocoder"] = geocoder.configured(settings)
    return render(request, "maps/admin.html", context)


@router.get("/admin/calls/{call_id}/map", name="maps:admin_call", include_in_schema=False)
def admin_call_map(request: Request, session: DbSession, user: AdminUser, call_id: int) -> HTMLResponse:
    authz.require(user, Action.map_manage)
    call = call_service.get_call(session, call_id)
    return render(request, "maps/admin.html", _admin_context(session, call))


@router.post("/admin/calls/{call_id}/map", name="maps:admin_mode", include_in_schema=False)
def admin_set_mode(request: Request, session: DbSession, user: AdminUser, call_id: int,
                   location_mode: Text = "") -> Response:
    authz.require(user, Action.map_manage)
    call = call_service.get_call(session, call_id)
    try:
        service.set_location_mode(session, actor=user, call=call, mode=location_mode)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "maps/admin.html", _admin_context(session, call, exc.errors), status_code=422)
    session.commit()
    return flash(request, redirect(links.path("maps:admin_call", call_id=call_id)),
                 N_("The location rule is saved."), "success")


def _place_back(call: Call | None) -> str:
    return links.path("maps:admin_call", call_id=call.id) if call else links.path("maps:admin")


@router.post("/admin/maps/places", name="maps:place_add", include_in_schema=False)
def add_place(request: Request, session: DbSession, user: AdminUser, call_id: Text = "", place_name: Text = "",
              latitude: Text = "", longitude: Text = "") -> Response:
    authz.require(user, Action.map_manage)
    parsed = parse_id(call_id)
    call = call_service.get_call(session, parsed) if parsed is not None else None
    try:
        service.add_place(session, actor=user, call=call, name=place_name, latitude=latitude, longitude=longitude)
    except ValidationFailed as exc:
        session.rollback()
        values = {"place_name": place_name, "latitude": latitude, "longitude": longitude}
        context = _admin_context(session, call, exc.errors, values)
        return render(request, "maps/admin.html", context, status_code=422)
    session.commit()
    return flash(request, redirect(_place_back(call)), N_("The place is added."), "success")


def _place_or_404(session: DbSession, place_id: int) -> MapPlace:
    return get_or_not_found(session, MapPlace, place_id)


@router.get("/admin/maps/places/{place_id}", name="maps:place_edit", include_in_schema=False)
def edit_place_form(request: Request, session: DbSession, user: AdminUser, place_id: int) -> HTMLResponse:
    authz.require(user, Action.map_manage)
    place = _place_or_404(session, place_id)
    call = call_service.get_call(session, place.call_id) if place.call_id else None
    values = {"place_name": place.name, "latitude": str(place.latitude), "longitude": str(place.longitude)}
    return render(request, "maps/place_edit.html", {"place": place, "call": call, "values": values, "errors": {}})


@router.post("/admin/maps/places/{place_id}", name="maps:place_save", include_in_schema=False)
def save_place(request: Request, session: DbSession, user: AdminUser, place_id: int, place_name: Text = "",
               latitude: Text = "", longitude: Text = "") -> Response:
    authz.require(user, Action.map_manage)
    place = _place_or_404(session, place_id)
    call = call_service.get_call(session, place.call_id) if place.call_id else None
    try:
        service.edit_place(session, actor=user, place=place, name=place_name, latitude=latitude, longitude=longitude)
    except ValidationFailed as exc:
        session.rollback()
        values = {"place_name": place_name, "latitude": latitude, "longitude": longitude}
        return render(request, "maps/place_edit.html", {"place": place, "call": call, "values": values,
                                                        "errors": exc.errors}, status_code=422)
    session.commit()
    return flash(request, redirect(_place_back(call)), N_("The place is saved."), "success")


@router.post("/admin/maps/places/{place_id}/delete", name="maps:place_remove", include_in_schema=False)
def remove_place(request: Request, session: DbSession, user: AdminUser, place_id: int) -> Response:
    authz.require(user, Action.map_manage)
    place = _place_or_404(session, place_id)
    call = call_service.get_call(session, place.call_id) if place.call_id else None
    service.remove_place(session, actor=user, place=place)
    session.commit()
    return flash(request, redirect(_place_back(call)), N_("The place is removed."), "success")


@router.post("/admin/maps/boundaries", name="maps:boundaries", include_in_schema=False)
def import_boundaries(request: Request, session: DbSession, settings: AppSettings, user: AdminUser,
                      geojson: Annotated[UploadFile | str | None, File()] = None) -> Response:
    authz.require(user, Action.map_manage)
    # One byte past the limit is enough to refuse a file as too large (app.maps.geo).
    # Forms parse into Starlette's UploadFile, not FastAPI's subclass.
    data = geojson.file.read(geo.MAX_GEOJSON_BYTES + 1) if isinstance(geojson, ReceivedFile) else b""
    try:
        if not data:
            raise ValidationFailed({"geojson": N_("Choose a GeoJSON file.")})
        updated = service.import_boundaries(session, actor=user, data=data)
    except ValidationFailed as exc:
        session.rollback()
        context = _admin_context(session, None, exc.errors)
        context["geocoder"] = geocoder.configured(settings)
        context["unknown_districts"] = exc.names if isinstance(exc, service.UnknownDistricts) else []
        return render(request, "maps/admin.html", context, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("maps:admin")),
                 N_plural("Outlines imported for {n} district.", "Outlines imported for {n} districts."), "success",
                 n=len(updated))
