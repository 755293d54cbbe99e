"""Share images: 1200×630 PNG cards drawn with Pillow, cached on disk by what they show.

A card is described by a `Card` (title, a subtitle line, a figures line). Its cache key is a
hash of that description and of `DRAW_VERSION`, so a new title or new figures give a new file
and an unchanged card is read from `<media_dir>/share/<key>.png` without drawing again.
Nothing in the card comes from a database row directly: callers pass public text only.
"""

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.settings import Settings

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
# Bump when the drawing changes: every cached card is then drawn again.
DRAW_VERSION = 1
BACKGROUND = (11, 92, 79)  # the site's theme colour (#0b5c4f)
ACCENT = (255, 214, 102)
TEXT = (255, 255, 255)
MUTED = (214, 236, 231)
TITLE_SIZE, TITLE_LINES = 68, 3
SUBTITLE_SIZE = 36
FIGURES_SIZE = 34
BRAND_SIZE = 32
# DejaVu is installed by scripts/setup (fonts-dejavu-core) and covers accented letters.
FONT_FILES = {
    True: ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    False: ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}
ELLIPSIS = "…"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Card:
    """What a share image shows, all plain text: the brand line, the title (wrapped on up to
    three lines), a subtitle (one line) and a figures line (one line)."""

    brand: str
    title: str
    subtitle: str = ""
    figures: str = ""

    def key(self) -> str:
        """The cache key: 32 hex digits of a SHA-256 of the card and the drawing's version."""
        data = json.dumps({"v": DRAW_VERSION, **asdict(self)}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()[:32]


@cache
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans at `size` pixels, or Pillow's own scalable font where DejaVu is missing."""
    for candidate in FONT_FILES[bold]:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> str:
    """`text` cut at the end, with an ellipsis, so that it is at most `width` pixels wide."""
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text.rstrip() + ELLIPSIS, font=face) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """`text` broken into at most `max_lines` lines of at most `width` pixels, at spaces (a word
    too long for a line is cut), the last line ending in an ellipsis when text is left over."""
    lines: list[str] = []
    current = ""
    for word in " ".join(text.split()).split(" "):
        candidate = f"{current} {word}" if current else word
        if draw.textlength(candidate, font=face) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A word wider than a line is cut into pieces that fit.
        while draw.textlength(word, font=face) > width:
            cut = len(word)
            while cut > 1 and draw.textlength(word[:cut], font=face) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(draw, lines[-1] + " " + ELLIPSIS * 3, face, width)
    return lines


def draw(card: Card) -> bytes:
    """The card as PNG bytes, 1200×630."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    pen = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    pen.rectangle((0, 0, WIDTH, 14), fill=ACCENT)
    pen.text((MARGIN, 70), _fit(pen, card.brand, font(BRAND_SIZE, True), inner), font=font(BRAND_SIZE, True),
             fill=ACCENT)
    y = 150
    title_face = font(TITLE_SIZE, True)
    for line in wrap(pen, card.title, title_face, inner, TITLE_LINES):
        pen.text((MARGIN, y), line, font=title_face, fill=TEXT)
        y += int(TITLE_SIZE * 1.22)
    if card.subtitle:
        pen.text((MARGIN, y + 20), _fit(pen, card.subtitle, font(SUBTITLE_SIZE), inner), font=font(SUBTITLE_SIZE),
                 fill=MUTED)
    if card.figures:
        pen.text((MARGIN, HEIGHT - MARGIN - FIGURES_SIZE), _fit(pen, card.figures, font(FIGURES_SIZE, True), inner),
                 font=font(FIGURES_SIZE, True), fill=TEXT)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cache_dir(settings: Settings) -> Path:
    """Where drawn cards are kept: a folder of the media folder that media pruning leaves alone
    (its name is not a media key)."""
    return settings.media_dir / "share"


def cached_png(settings: Settings, card: Card) -> tuple[str, bytes]:
    """The card's cache key and PNG bytes: read from the cache, or drawn and stored there
    (written to a temporary file then renamed, so a reader never sees half a file)."""
    key = card.key()
    path = cache_dir(settings) / f"{key}.png"
    try:
        return key, path.read_bytes()
    except FileNotFoundError:
        pass
    data = draw(card)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key, data
