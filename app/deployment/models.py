"""Facts about the deployment kept in its database, shared by all its instances."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow


class DeploymentFact(SQLModel, table=True):
    """One named fact (e.g. "secret_key_fingerprint") and when it was last written."""

    __tablename__ = "deployment_fact"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)
