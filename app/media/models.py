"""Uploaded images, stored re-encoded under server-generated names."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class MediaFile(SQLModel, table=True):
    __tablename__ = "media_file"

    id: int | None = Field(default=None, primary_key=True)
    # Random, server-generated; files live at DATA_DIR/media/<key>/<variant>.<ext>.
    key: str = Field(sa_type=sa.String(40), unique=True, index=True)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    content_type: str = Field(sa_type=sa.String(30))
    width: int
    height: int
    size_bytes: int
    # variant name -> {"width": w, "height": h, "bytes": n, "ext": "webp"}
    variants: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)


class UploadCharge(SQLModel, table=True):
    """A photo someone sent that was (or was about to be) decoded, counted towards their daily
    quota (app.media.service.charge_uploads). Kept even when the photo is later removed: what
    the quota limits is the work of decoding, which was done. The worker prunes old rows."""

    __tablename__ = "upload_charge"
    __table_args__ = (sa.Index("ix_upload_charge_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    size_bytes: int
    created_at: datetime = Field(default_factory=utcnow, index=True)
