"""The demonstration's identity: Liège, its platform "Réinventons Liège", a logo drawn here
(a geometric mark after the Perron, the column on steps that stands for the city's freedoms;
no text painted in) and brand colours that pass WCAG AA (checked by app.identity.service)."""

import hashlib
import io

from PIL import Image, ImageDraw
from sqlmodel import Session

from app.demo_context import DemoContext
from app.identity import logo as logo_module
from app.identity import service
from app.identity.models import CityIdentity

PRIMARY = "#b3122e"  # 6.9:1 with white
ACCENT = "#6d1020"


def draw_logo(size: int = 512) -> bytes:
    """The demo's logo as a PNG: a red disc with a white column on three steps, topped by a
    ball. Drawn at 4x and scaled down for smooth edges."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    u = big / 32
    draw.ellipse((0, 0, big - 1, big - 1), fill=PRIMARY)
    white = (255, 255, 255, 255)
    for step, width in enumerate((16, 12, 8)):  # the steps, widest at the bottom
        top = 24 - 2 * step
        draw.rectangle(((32 - width) / 2 * u, top * u, (32 + width) / 2 * u, (top + 2) * u - 1), fill=white)
    draw.rectangle((14.5 * u, 8 * u, 17.5 * u, 20 * u), fill=white)  # the column
    draw.rectangle((13 * u, 7 * u, 19 * u, 8.5 * u), fill=white)  # its capital
    draw.ellipse((13.5 * u, 3 * u, 18.5 * u, 8 * u), fill=white)  # the ball on top
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


def seed_identity(session: Session, context: DemoContext) -> None:
    """Liège's identity for the demonstration, as if its administrator had saved it."""
    png = draw_logo()
    width, height = logo_module.png_size(png)
    for colour, which in ((PRIMARY, "primary"), (ACCENT, "accent")):
        assert service.colour_error(colour, PRIMARY, which=which) is None, colour
    session.add(CityIdentity(
        id=service.ROW_ID, platform_name="Réinventons Liège", city_name="Liège",
        contact_email="participation@demo.reinventons.be", primary_color=PRIMARY, accent_color=ACCENT,
        footer_links=[{"label": "Ville de Liège", "url": "https://www.liege.be/"}],
        social_links=[{"network": "mastodon", "url": "https://mastodon.social/@liege"},
                      {"network": "facebook", "url": "https://www.facebook.com/villedeliege"}],
        logo_png=png, logo_version=hashlib.sha256(png).hexdigest()[:16], logo_width=width, logo_height=height,
        updated_by_id=context.admin.id))
    session.flush()
