"""Pleasant placeholder photos for the demo, drawn with Pillow alone (no files, no network).

A seeded random generator picks a palette and draws a sky gradient, a sun, hills and a row of
houses along a river: different for each seed, identical for the same seed.
"""

import io
import random
import unicodedata

from PIL import Image, ImageDraw, ImageFont, ImageOps

# (sky top, sky bottom, hills, river): dawn, noon, dusk, misty, night-ish blue.
_PALETTES = (
    ((255, 183, 94), (255, 236, 210), (86, 130, 89), (110, 160, 200)),
    ((70, 140, 220), (200, 230, 250), (92, 150, 80), (60, 120, 180)),
    ((120, 60, 140), (250, 150, 110), (70, 80, 60), (90, 90, 150)),
    ((170, 185, 200), (235, 238, 240), (120, 140, 120), (150, 170, 190)),
    ((25, 45, 100), (110, 140, 200), (40, 70, 60), (40, 60, 110)),
)
# Fonts with accents, if the machine has one; Pillow's built-in font only covers ASCII.
_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf",
          "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
          "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
_WALLS = ((230, 120, 90), (240, 200, 120), (200, 210, 220), (180, 90, 80), (250, 240, 220), (150, 170, 140))


def generate_demo_photo(seed: int, text: str = "", *, size: tuple[int, int] = (1200, 800)) -> bytes:
    """A JPEG landscape drawn from `seed`, with `text` as a caption band if given."""
    rng = random.Random(seed)
    width, height = size
    top, bottom, hills, river = rng.choice(_PALETTES)

    gradient = Image.linear_gradient("L").resize((width, height))
    image = ImageOps.colorize(gradient, black=top, white=bottom).convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")

    # Sun or moon
    radius = rng.randint(height // 14, height // 8)
    cx, cy = rng.randint(radius, width - radius), rng.randint(radius, height // 3)
    for glow in range(4, 0, -1):
        r = radius + glow * radius // 3
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 250, 220, 30))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(255, 245, 200, 235))

    # Two layers of hills, the far one paler
    for layer, (shade, base) in enumerate(((60, int(height * 0.55)), (0, int(height * 0.68)))):
        points = [(0, height)]
        steps = 8 + layer * 4
        for i in range(steps + 1):
            points.append((i * width // steps, base - rng.randint(0, height // 6)))
        points.append((width, height))
        color = tuple(min(255, c + shade) for c in hills)
        draw.polygon(points, fill=(*color, 255))

    # Houses along the quay
    quay = int(height * 0.78)
    x = rng.randint(-40, 0)
    while x < width:
        w = rng.randint(width // 20, width // 10)
        h = rng.randint(height // 10, height // 4)
        wall = rng.choice(_WALLS)
        draw.rectangle((x, quay - h, x + w, quay), fill=(*wall, 255))
        draw.polygon([(x - 4, quay - h), (x + w // 2, quay - h - w // 2), (x + w + 4, quay - h)],
                     fill=(90, 60, 55, 255))
        for wy in range(quay - h + 12, quay - 18, 28):
            for wx in range(x + 8, x + w - 14, 22):
                lit = rng.random() < 0.3
                draw.rectangle((wx, wy, wx + 10, wy + 14), fill=(255, 220, 120, 255) if lit else (60, 70, 90, 255))
        x += w + rng.randint(2, 18)

    # The river, with a few reflections
    draw.rectangle((0, quay, width, height), fill=(*river, 255))
    for _ in range(40):
        ry = rng.randint(quay + 6, height - 4)
        rx = rng.randint(0, width)
        draw.line((rx, ry, rx + rng.randint(20, 90), ry), fill=(255, 255, 255, 70), width=2)

    if text:
        band = height // 9
        draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 130))
        font, caption = _font(max(14, band // 2), text[:80])
        draw.text((band // 2, height - band // 2), caption, font=font, fill=(255, 255, 255, 255), anchor="lm")

    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _font(size: int, text: str) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str]:
    for name in _FONTS:
        try:
            return ImageFont.truetype(name, size), text
        except OSError:
            continue
    # The built-in font lacks accents: "Liège" is written "Liege" rather than with boxes.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ImageFont.load_default(size=size), ascii_text
