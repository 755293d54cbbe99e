"""The city's identity: what pages, e-mails and icons show, and its checked changes.

Until an administrator saves it, the identity is the settings' (REINVENTONS_PLATFORM_NAME,
_CITY_NAME, _CONTACT_EMAIL, _BRAND_PRIMARY, _BRAND_ACCENT). Saving checks every field first and
writes nothing when one is refused (ValidationFailed with a message per field).

Brand colours are checked against what they are used with (static/css/app.css): white text on
them (buttons, the header, badges) and them as text on the page's backgrounds (white, the page
grey, their own light tint). Each pair must reach WCAG 2.1 AA for normal text, 4.5:1 (success
criterion 1.4.3; app.identity.contrast computes the ratio from relative luminance).
"""

import hashlib
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.account.models import User
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import N_, format_number, gettext
from app.identity import contrast, logo
from app.identity.models import CityIdentity
from app.media.images import ImageRejected, Refusal
from app.settings import Settings

ROW_ID = 1
MAX_NAME = 80
MAX_LABEL = 60
MAX_URL = 500
FOOTER_LINKS = 5  # rows offered on the form
WHITE: contrast.RGB = (255, 255, 255)
PAGE: contrast.RGB = (0xF6, 0xF8, 0xF7)  # --page in static/css/app.css
# The social networks a city may link to, in the footer's order: key -> name shown.
NETWORKS: dict[str, str] = {
    "mastodon": "Mastodon", "bluesky": "Bluesky", "facebook": "Facebook", "instagram": "Instagram",
    "youtube": "YouTube", "linkedin": "LinkedIn", "peertube": "PeerTube",
}
_DEFAULT_ICON = Path(__file__).resolve().parents[2] / "static" / "img" / "icon-512.png"


@dataclass(frozen=True)
class Identity:
    """The identity as shown. `footer_links` (label, url) pairs; `social_links` (network key,
    network name, url); `logo_version` "" while there is no uploaded logo."""

    platform_name: str
    city_name: str
    contact_email: str
    primary: str
    accent: str
    footer_links: tuple[tuple[str, str], ...] = ()
    social_links: tuple[tuple[str, str, str], ...] = ()
    logo_version: str = ""
    logo_width: int = 0
    logo_height: int = 0
    is_default: bool = True

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_version)

    @property
    def header_logo_size(self) -> tuple[int, int]:
        """(width, height) in CSS px of the logo in the header: 40 px high, at most 200 wide."""
        if not self.logo_height:
            return (40, 40)
        width = round(40 * self.logo_width / self.logo_height)
        return (width, 40) if width <= 200 else (200, max(1, round(200 * self.logo_height / self.logo_width)))

    @property
    def icon_version(self) -> str:
        """Names the icons' URLs: the logo's, or "default"."""
        return self.logo_version or "default"

    @property
    def css(self) -> str:
        return brand_css(self.primary, self.accent)

    @property
    def css_version(self) -> str:
        return hashlib.sha256(self.css.encode()).hexdigest()[:12]


def default_identity(settings: Settings) -> Identity:
    """The identity from the settings, before an administrator saved one."""
    return Identity(platform_name=settings.platform_name, city_name=settings.city_name,
                    contact_email=settings.contact_email, primary=settings.brand_primary.lower(),
                    accent=settings.brand_accent.lower())


def _from_row(row: CityIdentity) -> Identity:
    return Identity(
        platform_name=row.platform_name, city_name=row.city_name, contact_email=row.contact_email,
        primary=row.primary_color, accent=row.accent_color,
        footer_links=tuple((str(x["label"]), str(x["url"])) for x in row.footer_links),
        social_links=tuple((str(x["network"]), NETWORKS.get(str(x["network"]), str(x["network"])), str(x["url"]))
                           for x in row.social_links),
        logo_version=row.logo_version, logo_width=row.logo_width, logo_height=row.logo_height, is_default=False)


def current(session: Session, settings: Settings) -> Identity:
    """The identity in force: the administrators' or the settings' defaults."""
    row = session.get(CityIdentity, ROW_ID)
    return _from_row(row) if row is not None else default_identity(settings)


def for_request(request: Request) -> Identity:
    """The identity for the page being drawn: the one read with the request
    (app.identity.routes.read_identity), or, for a page drawn before any route ran (a 404 for
    an unknown address), read in a short session; the settings' identity when the database
    cannot answer."""
    found = getattr(request.state, "identity", None)
    if isinstance(found, Identity):
        return found
    settings: Settings = request.app.state.settings
    try:
        with request.app.state.db.session() as session:
            found = current(session, settings)
    except SQLAlchemyError:
        found = default_identity(settings)
    request.state.identity = found
    return found


def logo_png(session: Session) -> tuple[str, bytes]:
    """(version, PNG bytes) of the logo the icons are drawn from: the uploaded one, or the
    platform's own icon (version "default")."""
    row = session.get(CityIdentity, ROW_ID)
    if row is not None and row.logo_png:
        return row.logo_version, row.logo_png
    return "default", _default_icon()


@cache
def _default_icon() -> bytes:
    return _DEFAULT_ICON.read_bytes()


# --- Brand colours -------------------------------------------------------------------------

def _tint(colour: contrast.RGB) -> contrast.RGB:
    return contrast.mix(colour, WHITE, 0.93)


def brand_css(primary: str, accent: str) -> str:
    """The stylesheet that carries the brand colours to every page (the CSP forbids inline
    styles): custom properties that static/css/app.css uses. `primary` and `accent` are
    checked `#rrggbb` colours."""
    p = contrast.parse_hex(primary)
    values = {
        "--brand": contrast.to_hex(p),
        "--brand-accent": contrast.to_hex(contrast.parse_hex(accent)),
        "--brand-light": contrast.to_hex(contrast.mix(p, WHITE, 0.84)),
        "--brand-tint": contrast.to_hex(_tint(p)),
    }
    body = "".join(f"  {name}: {value};\n" for name, value in values.items())
    return f"/* The city's brand colours (app.identity), set by its administrators. */\n:root {{\n{body}}}\n"


def _pairs(colour: contrast.RGB, primary: contrast.RGB) -> list[tuple[float, str]]:
    """(ratio, what the other colour is) for each pair the colour is used in."""
    return [
        (contrast.contrast_ratio(colour, WHITE), N_("white")),
        (contrast.contrast_ratio(colour, PAGE), N_("the page's light grey background")),
        (contrast.contrast_ratio(colour, _tint(primary)), N_("the light tint of the primary colour")),
    ]


def colour_error(colour: str, primary: str, *, which: str) -> str | None:
    """The message refusing `colour` (the "primary" or "accent" colour), in the reader's
    language, or None when every pair it is used in reaches 4.5:1. The message gives the
    lowest ratio (rounded down) and the minimum."""
    try:
        rgb = contrast.parse_hex(colour)
    except ValueError:
        return gettext("Please give a colour as # followed by six hexadecimal digits, e.g. #0b5c4f.")
    try:
        base = contrast.parse_hex(primary)
    except ValueError:
        base = rgb
    ratio, other = min(_pairs(rgb, base))
    if ratio >= contrast.AA_NORMAL_TEXT:
        return None
    params = {"colour": colour.lower(), "ratio": format_number(contrast.shown_ratio(ratio)),
              "minimum": format_number(contrast.AA_NORMAL_TEXT), "other": gettext(other)}
    if which == "primary":
        return gettext("The primary colour {colour} has a contrast of {ratio}:1 with {other}; text needs at "
                       "least {minimum}:1 to be readable (WCAG 2.1 AA). Choose a darker colour.", **params)
    return gettext("The accent colour {colour} has a contrast of {ratio}:1 with {other}; text needs at "
                   "least {minimum}:1 to be readable (WCAG 2.1 AA). Choose a darker colour.", **params)


# --- Saving --------------------------------------------------------------------------------

@dataclass
class IdentityForm:
    """What the administrators' form sent, as text; `logo` the uploaded bytes (None: keep),
    `remove_logo` to go back to the platform's icon."""

    platform_name: str = ""
    city_name: str = ""
    contact_email: str = ""
    primary_color: str = ""
    accent_color: str = ""
    footer_links: list[tuple[str, str]] = field(default_factory=list)
    social_links: dict[str, str] = field(default_factory=dict)
    logo: bytes | None = None
    remove_logo: bool = False

    @classmethod
    def of(cls, identity: Identity) -> "IdentityForm":
        links = list(identity.footer_links) + [("", "")] * (FOOTER_LINKS - len(identity.footer_links))
        return cls(platform_name=identity.platform_name, city_name=identity.city_name,
                   contact_email=identity.contact_email, primary_color=identity.primary,
                   accent_color=identity.accent, footer_links=links[:FOOTER_LINKS],
                   social_links={key: url for key, _name, url in identity.social_links})


def _web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(value) <= MAX_URL \
        and not any(c.isspace() for c in value)


def _email_address(value: str) -> bool:
    name, address = parseaddr(value)
    local, _sep, domain = address.partition("@")
    return address == value and not name and bool(local) and "." in domain and len(value) <= 254


def _logo_message(reason: Refusal) -> str:
    if reason is Refusal.too_large:
        return N_("This logo is too large. Please send a smaller file.")
    if reason is Refusal.too_many_pixels:
        return N_("This logo has too many pixels. Please send a smaller version.")
    if reason is Refusal.animated:
        return N_("An animated logo cannot be used. Please send a still image.")
    return N_("This file is not an image we can use as a logo. Please send an SVG, PNG, JPEG or WebP file.")


def save(session: Session, settings: Settings, *, actor: User, form: IdentityForm) -> CityIdentity:
    """Check every field of `form` and save the identity, audited with the names of the fields
    that changed (never their values: a logo is bytes, a link may be long). Raises
    ValidationFailed (field name -> message, colours' messages already in the reader's
    language) and writes nothing when a field is refused."""
    errors: dict[str, str] = {}
    platform_name = " ".join(form.platform_name.split())
    city_name = " ".join(form.city_name.split())
    contact_email = form.contact_email.strip()
    primary = form.primary_color.strip().lower()
    accent = form.accent_color.strip().lower()
    if not platform_name:
        errors["platform_name"] = N_("Please give the platform's name.")
    elif len(platform_name) > MAX_NAME:
        errors["platform_name"] = N_("This name is too long.")
    if len(city_name) > MAX_NAME:
        errors["city_name"] = N_("This name is too long.")
    if contact_email and not _email_address(contact_email):
        errors["contact_email"] = N_("Please enter a valid e-mail address.")
    for name, value in (("primary_color", primary), ("accent_color", accent)):
        message = colour_error(value, primary, which=name.removesuffix("_color"))
        if message:
            errors[name] = message
    footer: list[dict[str, Any]] = []
    for index, (label, url) in enumerate(form.footer_links, start=1):
        label, url = " ".join(label.split()), url.strip()
        if not label and not url:
            continue
        if not label or len(label) > MAX_LABEL:
            errors[f"footer_label_{index}"] = N_("Please give a short label (60 characters at most) for this link.")
        if not _web_address(url):
            errors[f"footer_url_{index}"] = N_("Please give a web address starting with https:// or http://.")
        footer.append({"label": label, "url": url})
    social: list[dict[str, Any]] = []
    for key in NETWORKS:
        url = form.social_links.get(key, "").strip()
        if not url:
            continue
        if not _web_address(url):
            errors[f"social_{key}"] = N_("Please give a web address starting with https:// or http://.")
        social.append({"network": key, "url": url})
    new_logo: bytes | None = None
    if form.logo is not None:
        try:
            new_logo = logo.process_logo(form.logo, max_bytes=settings.max_upload_bytes,
                                         max_pixels=settings.max_image_pixels)
        except ImageRejected as exc:
            errors["logo"] = _logo_message(exc.reason)
    if errors:
        raise ValidationFailed(errors)

    row = session.get(CityIdentity, ROW_ID, with_for_update=True)
    before = _from_row(row) if row is not None else default_identity(settings)
    if row is None:
        row = CityIdentity(id=ROW_ID, platform_name=platform_name, city_name=city_name,
                           primary_color=primary, accent_color=accent)
    row.platform_name, row.city_name, row.contact_email = platform_name, city_name, contact_email
    row.primary_color, row.accent_color = primary, accent
    row.footer_links, row.social_links = footer, social
    if new_logo is not None:
        row.logo_png = new_logo
        row.logo_version = hashlib.sha256(new_logo).hexdigest()[:16]
        row.logo_width, row.logo_height = logo.png_size(new_logo)
    elif form.remove_logo:
        row.logo_png, row.logo_version, row.logo_width, row.logo_height = None, "", 0, 0
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.add(row)
    session.flush()
    after = _from_row(row)
    changed = [name for name in ("platform_name", "city_name", "contact_email", "primary", "accent",
                                 "footer_links", "social_links", "logo_version")
               if getattr(before, name) != getattr(after, name)]
    record(session, actor=actor, action=AuditAction.identity_save, target_type=TargetType.identity,
           target_id=ROW_ID, details={"changed": ["logo" if name == "logo_version" else name for name in changed]})
    return row
