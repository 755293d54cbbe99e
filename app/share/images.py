"""Share images: 1200×630 PNG cards drawn with Pillow, cached on disk by what they show.

A card is described by a `Card` (title, a subtitle line, a figures line). Its cache key is a
hash of that description and of `DRAW_VERSION`, so a new title or new figures give a new file
and an unchanged card is read from `<media_dir>/share/<key>.png` without drawing again.
Nothing in the card comes from a database row directly: callers pass public text only.
"""

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

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
COVER_WIDTH = 420  # the cover's panel on the right, full height
# DejaVu is installed by scripts/setup (fonts-dejavu-core) and covers accented letters.
FONT_FILES = {
    True: ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    False: ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}
ELLIPSIS = "…"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Card:
    """What a share image shows: the brand line, the title (wrapped on up to three lines), a
    subtitle (one line), a figures line (one line), all plain text, and the key of a cover photo
    (app.media: a key's content never changes) drawn on the right, or "" for none."""

    brand: str
    title: str
    subtitle: str = ""
    figures: str = ""
    cover_key: str = ""

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
    # Only ASCII spaces break a line: a no-break space ("75 %") keeps its words together.
    for word in re.sub(r"[ \t\r\n]+", " ", text).strip().split(" "):
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
        last = lines[-1]
        # Cut at a word where one fits, so the ellipsis ends a whole word ("la rue…").
        while " " in last and draw.textlength(last + ELLIPSIS, font=face) > width:
            last = last.rsplit(" ", 1)[0]
        lines[-1] = _fit(draw, last.rstrip(" ,;:·-") + ELLIPSIS, face, width)
    return lines


def _paste_cover(image: Image.Image, cover: bytes) -> bool:
    """The cover cropped to fill the right panel; False (nothing drawn) if it cannot be read."""
    try:
        with Image.open(BytesIO(cover)) as photo:
            panel = ImageOps.fit(photo.convert("RGB"), (COVER_WIDTH, HEIGHT))
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
    image.paste(panel, (WIDTH - COVER_WIDTH, 0))
    return True


def draw(card: Card, cover: bytes | None = None) -> bytes:
    """The card as PNG bytes, 1200×630; `cover` is the card's cover photo, if any (one of our
    own re-encoded variants: app.media.images)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    pen = ImageDraw.Draw(image)
    with_cover = card.cover_key != "" and cover is not None and _paste_cover(image, cover)
    inner = WIDTH - 2 * MARGIN - (COVER_WIDTH if with_cover else 0)
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
        # Figures are never cut short: a second line when they do not fit on one.
        face = font(FIGURES_SIZE, True)
        lines = wrap(pen, card.figures, face, inner, 2)
        y = HEIGHT - 60 - FIGURES_SIZE - (len(lines) - 1) * int(FIGURES_SIZE * 1.3)
        for line in lines:
            pen.text((MARGIN, y), line, font=face, fill=TEXT)
            y += int(FIGURES_SIZE * 1.3)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cache_dir(settings: Settings) -> Path:
    """Where drawn cards are kept: a folder of the media folder that media pruning leaves alone
    (its name is not a media key)."""
    return settings.media_dir / "share"


def cached_png(settings: Settings, card: Card,
               cover: Callable[[], bytes | None] | None = None) -> tuple[str, bytes]:
    """The card's cache key and PNG bytes: read from the cache, or drawn and stored there
    (written to a temporary file then renamed, so a reader never sees half a file). The cache
    is this machine's (a card is drawn again on another). `cover` reads the photo of
    `card.cover_key` from the media storage; called only when the card is drawn."""
    key = card.key()
    path = cache_dir(settings) / f"{key}.png"
    try:
        return key, path.read_bytes()
    except FileNotFoundError:
        pass
    data = draw(card, cover() if cover is not None else None)
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
