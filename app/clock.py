"""Time in one convention: timezone-aware datetimes in UTC.

SQLModel stores them as UTC on both SQLite and PostgreSQL and gives them back aware; pages
show them in the city's time zone (settings.timezone) through the i18n filters.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
