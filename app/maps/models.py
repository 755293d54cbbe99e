"""The tables of maps: an idea's point, a call's location rule, named places, district boundaries.

Coordinates are WGS 84 degrees (latitude -90..90, longitude -180..180), as GPS and OpenStreetMap
give them. Kept in tables of their own so the idea and call tables stay as they are.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class LocationMode(StrEnum):
    """Whether a call's ideas carry a location: not asked, asked, or required."""

    off = "off"
    optional = "optional"
    required = "required"


class IdeaLocation(SQLModel, table=True):
    """Where an idea is about: one point, and the words that name it (a place's or an address's)."""

    __tablename__ = "idea_location"

    idea_id: int = Field(foreign_key="idea.id", primary_key=True, ondelete="CASCADE")
    latitude: float = Field(sa_type=sa.Float)
    longitude: float = Field(sa_type=sa.Float)
    label: str = Field(default="", sa_type=sa.String(200))
    updated_at: datetime = Field(default_factory=utcnow)


class CallMap(SQLModel, table=True):
    """A call's location rule; a call without a row does not ask for a location."""

    __tablename__ = "call_map"

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    location_mode: str = Field(default=LocationMode.off, sa_type=sa.String(10))


class MapPlace(SQLModel, table=True):
    """A named place administrators offer in the idea form: for every call (`call_id` None) or one."""

    __tablename__ = "map_place"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_type=sa.String(120))
    latitude: float = Field(sa_type=sa.Float)
    longitude: float = Field(sa_type=sa.Float)


class DistrictBoundary(SQLModel, table=True):
    """A district's outline: a GeoJSON Polygon or MultiPolygon geometry (RFC 7946, lon/lat),
    with its bounding box to rule points out without walking the rings."""

    __tablename__ = "district_boundary"

    district_id: int = Field(foreign_key="district.id", primary_key=True, ondelete="CASCADE")
    geometry: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    min_lon: float = Field(sa_type=sa.Float)
    min_lat: float = Field(sa_type=sa.Float)
    max_lon: float = Field(sa_type=sa.Float)
    max_lat: float = Field(sa_type=sa.Float)
    imported_at: datetime = Field(default_factory=utcnow)
