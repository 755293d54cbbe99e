"""All configuration in one place, read from REINVENTONS_* environment variables.

The defaults are the embedded ones: an SQLite file and a media folder under ./var/,
so a newcomer can run the platform with no other server.
"""

import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("fr", "en", "nl", "de")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REINVENTONS_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    # Extra host names accepted besides BASE_URL's (comma-separated), e.g. behind a proxy.
    allowed_hosts: str = ""
    smtp_url: str = ""
    mail_from: str = "Réinventons <noreply@reinventons.local>"
    default_language: str = "fr"
    max_body_bytes: int = 12 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    session_days: int = 30
    login_attempts_per_minute: int = 5
    registrations_per_hour: int = 10
    # A browser test or a demo run sets this to see SQL; never on in production.
    sql_echo: bool = False

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reinventons.sqlite3').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept under DATA_DIR."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def is_https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def trusted_hosts(self) -> list[str]:
        host = urlsplit(self.base_url).hostname or "127.0.0.1"
        hosts = {host}
        if host in ("127.0.0.1", "localhost"):
            hosts |= {"127.0.0.1", "localhost"}
        hosts |= {h.strip() for h in self.allowed_hosts.split(",") if h.strip()}
        return sorted(hosts)

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
