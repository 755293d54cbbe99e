"""All configuration in one place, read from REINVENTONS_* environment variables.

The defaults are the embedded ones: an SQLite file and a media folder under ./var/,
so a newcomer can run the platform with no other server.
"""

import re
import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("fr", "en", "nl", "de")
MIB = 1024 * 1024
# The idea form offers this many photos; a request must be able to carry all of them at the
# upload limit, plus the form's text fields and the multipart envelope.
PHOTOS_PER_IDEA = 4
FORM_TEXT_BYTES = 1 * MIB
# A DNS host name: dot-separated labels of letters, digits and inner hyphens.
HOST_NAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


SLUG = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")


class OidcProvider(BaseModel):
    """One OpenID Connect provider people may sign in with (app/account/oidc.py): `key` a slug
    that names it in URLs (`/account/oidc/<key>/...`), `name` the label of its button, `issuer`
    its issuer URL (its metadata is read at `<issuer>/.well-known/openid-configuration`), the
    client id and secret the provider gave the city, the `scopes` asked for, and `claims` the
    names of the claims kept on the identity besides the subject and e-mail (none by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str = Field(min_length=1, max_length=60)
    issuer: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr = SecretStr("")
    scopes: str = "openid email profile"
    claims: tuple[str, ...] = ()

    @field_validator("key")
    @classmethod
    def _key_is_a_slug(cls, value: str) -> str:
        if not SLUG.fullmatch(value):
            raise ValueError("an OIDC provider's key must be a slug: a-z, 0-9 and inner hyphens, at most 32")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_https(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        local = parts.hostname in ("127.0.0.1", "localhost")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError("an OIDC provider's issuer must be an https URL (http only on 127.0.0.1 or localhost)")
        if not parts.hostname or parts.query or parts.fragment:
            raise ValueError("an OIDC provider's issuer must be a plain URL, without query or fragment")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes_include_openid(cls, value: str) -> str:
        words = value.split()
        if "openid" not in words:
            raise ValueError("an OIDC provider's scopes must include openid")
        return " ".join(words)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error would otherwise quote the settings given,
    # their beginning and their end (the secret key, a password in a URL), in the start-up log.
    model_config = SettingsConfigDict(env_prefix="REINVENTONS_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    # The public address: every absolute link (e-mails, CSV, exports, API) is built on it with
    # `absolute_url`. Unset, `reinventons serve` and `demo` derive it from --host and --port.
    base_url: str = "http://127.0.0.1:8000"
    # Extra host names accepted besides BASE_URL's (comma-separated), e.g. behind a proxy.
    allowed_hosts: str = ""
    # The reverse proxies trusted for X-Forwarded-For, X-Forwarded-Proto and X-Request-ID
    # (comma-separated addresses or networks; uvicorn's syntax; "*", any, only if the proxy alone
    # reaches the servers and replaces X-Forwarded-For: with it, the visitor's own first entry
    # counts, README "Configuration"). From any other
    # peer those headers are ignored: a visitor cannot pick their address or their request id.
    forwarded_allow_ips: str = "127.0.0.1"
    # The city's identity until an administrator sets it (app.identity): the names shown in
    # titles, the header, the footer and e-mails, the contact address, the brand colours.
    platform_name: str = "Réinventons"
    city_name: str = ""
    contact_email: str = ""
    brand_primary: str = "#0b5c4f"
    brand_accent: str = "#07443a"
    smtp_url: str = ""
    mail_from: str = "Réinventons <noreply@reinventons.local>"
    default_language: str = "fr"
    # Larger requests get the 413 page. 0 (the default): just enough for the idea form with every
    # photo at MAX_UPLOAD_BYTES; a smaller value would refuse what the form offers.
    max_body_bytes: int = 0
    max_upload_bytes: int = 10 * MIB  # per photo
    max_image_pixels: int = 40_000_000
    # Each photo is decoded in a child process (app.media.sandbox) with these limits: memory beyond
    # what Pillow itself maps (a 40 MP PNG needs ~170 MB; a 12 MP JPEG ~30 MB), CPU time (a 35 MP
    # PNG takes ~0.4 s), and the wall time the upload waits for it. Past any of them the photo is
    # refused as unreadable and the child killed; the web process is untouched.
    photo_sandbox_memory_mb: int = Field(default=512, ge=1)
    photo_sandbox_cpu_seconds: int = Field(default=10, ge=1)
    photo_sandbox_timeout_seconds: float = Field(default=30.0, gt=0)
    # Photos one person (not staff) may send over 24 hours, counted before decoding.
    photos_per_day: int = 40
    photo_bytes_per_day: int = 100 * 1024 * 1024
    session_days: int = 30
    login_attempts_per_minute: int = 5
    registrations_per_hour: int = 10
    # The assistant (app.assistant): questions one person, and one address, may ask per hour; days
    # a question is kept (personal data), after which the worker deletes it.
    assistant_questions_per_hour: int = 30
    assistant_retention_days: int = 180
    # How long a worker holds a message it claimed before another may take it up (a worker killed
    # mid-message); longer than the slowest handler, a network post with its timeouts.
    outbox_lease_seconds: int = 300
    # The city's PeerTube servers (comma-separated host names, e.g. "tube.liege.be"): their
    # videos get the click-to-load player, and the Content-Security-Policy lets pages frame them.
    peertube_hosts: str = ""
    # Meilisearch (app/search/meili.py): unset MEILI_URL (the default), the database's own
    # full-text engine answers searches. The master key indexes and stays on the server (never in a
    # page, a log or an error text); the search key, if given, is the one searches use.
    meili_url: str = ""
    meili_master_key: SecretStr = SecretStr("")  # shown as ********** if the settings are ever printed
    meili_search_key: SecretStr = SecretStr("")
    meili_index: str = "ideas"
    # How long a search waits for Meilisearch before the database answers instead.
    meili_timeout_ms: int = 300
    # Object storage (app.media.storage): unset S3_ENDPOINT_URL (the default), uploaded files are
    # kept in folders under DATA_DIR; set, in this bucket of an S3-compatible store (what several
    # machines need). Nothing in the bucket is public: the platform serves every file after its
    # own checks. The secret key is shown as ********** if the settings are ever printed.
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_timeout_seconds: float = 5.0
    # Redis (app/redis_link.py): unset REDIS_URL (the default), rate limits are counted in the
    # database and the page generation is the database's; set (redis://host:6379/0, rediss://
    # for TLS, unix:///path), both are kept in Redis, shared by every process on every machine.
    # When Redis does not answer, the database does the work again until it does (a log line
    # says so). The URL may hold a password: shown as ********** if the settings are ever
    # printed. Keys start with REDIS_PREFIX, so that several platforms can share one server.
    redis_url: SecretStr = SecretStr("")
    redis_prefix: str = Field(default="reinventons:", max_length=100)
    # How long a Redis command waits before the database answers instead.
    redis_timeout_ms: int = Field(default=250, ge=10, le=10_000)
    # Maps (app/maps/): the tile server the map pages draw from ({z}/{x}/{y} template, https) and
    # its attribution; the Content-Security-Policy allows exactly this host for images. A
    # Nominatim-compatible geocoder's base URL (e.g. "https://nominatim.example.org") turns a
    # typed address into a point, server-side; unset (the default), no address is looked up.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "© OpenStreetMap contributors"
    geocoder_url: str = ""
    geocoder_timeout_ms: int = 2000
    # OpenID Connect providers people may sign in with: a JSON list of objects with the fields of
    # OidcProvider above, e.g. REINVENTONS_OIDC_PROVIDERS='[{"key": "csam", "name": "CSAM",
    # "issuer": "https://idp.example.be", "client_id": "...", "client_secret": "..."}]'. Empty
    # (the default): no button, no route answers.
    oidc_providers: tuple[OidcProvider, ...] = ()
    # A browser test or a demo run sets this to see SQL; never on in production.
    sql_echo: bool = False
    # Memory for whole pages as anonymous visitors see them, per server process (app.pagecache);
    # 0 turns the cache off.
    page_cache_mb: int = Field(default=64, ge=0, le=4096)
    # Logs (app/observability/logs.py): "json" (JSON lines, for a log collector), "text", or ""
    # (the default): text when standard error is a terminal, JSON lines otherwise.
    log_format: str = Field(default="", pattern="^(|json|text)$")
    # Prometheus scrapes /metrics with "Authorization: Bearer <this>"; unset, /metrics is 404.
    metrics_token: SecretStr = SecretStr("")
    # Errors reported to Sentry or a compatible service (app/observability/errors.py); unset: none.
    sentry_dsn: SecretStr = SecretStr("")
    sentry_environment: str = "production"

    @field_validator("oidc_providers")
    @classmethod
    def _provider_keys_unique(cls, value: tuple[OidcProvider, ...]) -> tuple[OidcProvider, ...]:
        keys = [p.key for p in value]
        if len(set(keys)) != len(keys):
            raise ValueError("two OIDC providers have the same key")
        return value

    def oidc_provider(self, key: str) -> OidcProvider | None:
        """The configured provider named `key`, or None."""
        return next((p for p in self.oidc_providers if p.key == key), None)

    @model_validator(mode="after")
    def _body_holds_a_full_form(self) -> "Settings":
        needed = self.form_bytes_needed
        if not self.max_body_bytes:
            self.max_body_bytes = needed
        elif self.max_body_bytes < needed:
            raise ValueError(
                f"REINVENTONS_MAX_BODY_BYTES={self.max_body_bytes} cannot carry the idea form's "
                f"{PHOTOS_PER_IDEA} photos of REINVENTONS_MAX_UPLOAD_BYTES={self.max_upload_bytes} and its "
                f"text: set it to at least {needed}, or leave it unset.")
        return self

    @property
    def form_bytes_needed(self) -> int:
        """The largest request the idea form can honestly produce."""
        return PHOTOS_PER_IDEA * self.max_upload_bytes + FORM_TEXT_BYTES

    @property
    def files_bytes_allowed(self) -> int:
        """What the files of one form may weigh together: the body limit less the text's share."""
        return self.max_body_bytes - FORM_TEXT_BYTES

    @field_validator("peertube_hosts")
    @classmethod
    def _host_names_only(cls, value: str) -> str:
        # They go into the Content-Security-Policy header: a space or ";" would add a directive.
        for host in (h.strip() for h in value.split(",")):
            if host and not HOST_NAME.fullmatch(host):
                raise ValueError(f"REINVENTONS_PEERTUBE_HOSTS: {host!r} is not a host name "
                                 "(give names like tube.example.org, without https:// or a path)")
        return value

    @property
    def peertube_host_list(self) -> tuple[str, ...]:
        """The PeerTube host names, lower case, in the order given, each once."""
        hosts = (h.strip().lower() for h in self.peertube_hosts.split(","))
        return tuple(dict.fromkeys(h for h in hosts if h))

    @model_validator(mode="after")
    def _s3_complete(self) -> "Settings":
        # A half-configured store would fail at the first upload; say so when the process starts.
        if self.s3_endpoint_url:
            missing = [name for name, value in (("REINVENTONS_S3_BUCKET", self.s3_bucket),
                                                ("REINVENTONS_S3_ACCESS_KEY_ID", self.s3_access_key_id),
                                                ("REINVENTONS_S3_SECRET_ACCESS_KEY",
                                                 self.s3_secret_access_key.get_secret_value())) if not value]
            if missing:
                raise ValueError(f"REINVENTONS_S3_ENDPOINT_URL is set: {', '.join(missing)} must be set too")
            if not self.s3_endpoint_url.startswith(("https://", "http://")):
                raise ValueError("REINVENTONS_S3_ENDPOINT_URL must be an http(s):// address")
        return self

    @model_validator(mode="after")
    def _redis_url_scheme(self) -> "Settings":
        # After validation, not on the field: an error's text shows the value it refused, and
        # the URL may hold the password (here it is a SecretStr already, shown as **********).
        url = self.redis_url.get_secret_value().strip()
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REINVENTONS_REDIS_URL must be a redis://, rediss:// or unix:// address")
        if url.startswith(("redis://", "rediss://")):
            # A password holding "/", "#" or "?" (base64 ones do) ends the host part there: the
            # parser's own error would quote the password's beginning as a port, or the URL would
            # name localhost without a password. Refused here, without saying what was read.
            try:
                parts = urlsplit(url)
                valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
            except ValueError:
                valid = False
            if not valid:
                raise ValueError("REINVENTONS_REDIS_URL is not a valid redis://[:password@]host[:port]/db "
                                 "address; characters such as / # ? @ : in the password must be "
                                 "percent-encoded (%2F %23 %3F %40 %3A)")
        self.redis_url = SecretStr(url)
        return self

    @field_validator("base_url", "meili_url", "geocoder_url", "s3_endpoint_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    def absolute_url(self, path: str) -> str:
        """`path` (starting with "/") on the public address: the only way to write a link that
        leaves the site (e-mails, spreadsheets, exports, the API)."""
        return f"{self.base_url}{path}"

    @property
    def base_url_configured(self) -> bool:
        """Whether BASE_URL was given (environment, .env file or argument), not defaulted."""
        return "base_url" in self.model_fields_set

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
    def private_media_dir(self) -> Path:
        """Staff-only files (the scans of paper ideas, app.intake): apart from `media_dir`, so
        that no public route or proxy rule for media can ever reach them."""
        return self.data_dir / "private_media"

    @property
    def imports_dir(self) -> Path:
        """Spreadsheets uploaded for a bulk import, kept between preview and confirmation (app.intake)."""
        return self.data_dir / "imports"

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
