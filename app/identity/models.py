"""The city's identity as administrators set it: one row (id 1), absent until first saved."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class CityIdentity(SQLModel, table=True):
    """Platform and city names, contact address, brand colours (`#rrggbb`, checked for
    contrast by app.identity.service), footer and social links (JSON lists of
    {"label", "url"} and {"network", "url"}), and the logo re-encoded as a PNG of at most
    512 px (app.identity.logo; None: the platform's own icon), with `logo_version` the first
    16 hex digits of its sha256, which names the icons' URLs. `updated_by_id` the last
    administrator who saved it."""

    __tablename__ = "city_identity"

    id: int | None = Field(default=None, primary_key=True)
    platform_name: str = Field(sa_type=sa.String(80))
    city_name: str = Field(sa_type=sa.String(80))
    contact_email: str = Field(default="", sa_type=sa.String(254))
    primary_color: str = Field(sa_type=sa.String(7))
    accent_color: str = Field(sa_type=sa.String(7))
    footer_links: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    social_links: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    logo_png: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    logo_version: str = Field(default="", sa_type=sa.String(16))
    logo_width: int = 0  # px of logo_png, for the <img> size attributes
    logo_height: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
