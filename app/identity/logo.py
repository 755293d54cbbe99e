"""The city's logo, "processed like photos": whatever is uploaded, what is stored and served is
a PNG we drew ourselves, and the icons (favicon, apple-touch-icon, the web app manifest's) are
drawn from it.

- Raster logos (JPEG, PNG, WebP) go through the photo pipeline's checks (app.media.images:
  type by magic bytes and only the matching Pillow plugin, pixel limit before decoding, no
  animation, corrupt files refused), then are re-encoded from fresh pixels into a PNG of at
  most 512 px, keeping transparency (a logo on a coloured header needs it), with no metadata.
- SVG logos are *rasterised* with CairoSVG (Kozea, the WeasyPrint authors) into the same PNG,
  and the SVG itself is thrown away: an uploaded SVG is never served, so its scripts, event
  handlers, `<foreignObject>` HTML or external references never reach a browser. CairoSVG
  runs without `unsafe` (its XML goes through defusedxml: no entities, no external DTD) and
  with a URL fetcher that refuses everything, so rendering reads no file and no network
  address (`<image href="file:///etc/passwd">`, `http://169.254.169.254/`). Sanitising and
  serving the SVG was the other choice; rasterising leaves nothing to get wrong.
"""

import io
import re
from typing import Any, NoReturn

from PIL import Image

from app.media import images
from app.media.images import ImageRejected, Refusal

LOGO_BOX = 512  # px: the largest icon drawn from it (the manifest's 512 icon)
MAX_SVG_BYTES = 512 * 1024
_SVG_START = re.compile(rb"\A(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]",
                        re.DOTALL | re.IGNORECASE)


def looks_like_svg(data: bytes) -> bool:
    """Whether the bytes start like an SVG document (an `<svg` root, after an optional XML
    declaration, comments and doctype)."""
    return bool(_SVG_START.match(data[:4096]))


def _refuse_fetch(url: str, *_args: Any, **_kwargs: Any) -> NoReturn:
    raise ValueError(f"external resources are not loaded: {url[:80]}")


def _rasterise_svg(data: bytes) -> bytes:
    from cairosvg.surface import PNGSurface  # noqa: PLC0415 - needs libcairo, loaded only for an SVG

    try:
        return bytes(PNGSurface.convert(bytestring=data, output_width=LOGO_BOX, unsafe=False,
                                        url_fetcher=_refuse_fetch))
    except Exception as exc:  # noqa: BLE001 - any failure to draw it is a refusal, never a 500
        raise ImageRejected(Refusal.corrupt, f"SVG: {exc!r}"[:200]) from exc


def _encode_png(image: Image.Image) -> bytes:
    image.info = {}
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def process_logo(data: bytes, *, max_bytes: int, max_pixels: int) -> bytes:
    """The logo to store: a PNG (RGBA) of at most LOGO_BOX px on its longer side, from a JPEG,
    PNG, WebP or SVG upload. Raises ImageRejected (app.media.images) for anything else, a file
    over `max_bytes` (SVG: MAX_SVG_BYTES), too many pixels, an animation or a damaged file."""
    if not data:
        raise ImageRejected(Refusal.empty)
    if looks_like_svg(data):
        if len(data) > min(max_bytes, MAX_SVG_BYTES):
            raise ImageRejected(Refusal.too_large, f"{len(data)} bytes")
        data = _rasterise_svg(data)
    if len(data) > max_bytes:
        raise ImageRejected(Refusal.too_large, f"{len(data)} bytes")
    fmt = images.sniff_format(data)
    if fmt is None:
        raise ImageRejected(Refusal.unsupported, repr(data[:8]))
    images._raise_pillow_limit(max_pixels)  # noqa: SLF001 - the photo pipeline's own guards
    with images._DECODE_SLOTS:  # noqa: SLF001
        image = images._open(data, fmt, max_pixels)  # noqa: SLF001
        try:
            image.load()
            pixels = images._normalise_mode(image)  # noqa: SLF001
            pixels = images._to_srgb(pixels, image.info.get("icc_profile"))  # noqa: SLF001
            pixels = pixels.convert("RGBA")
            pixels = pixels.resize(images.fit(pixels.size, (LOGO_BOX, LOGO_BOX)), Image.Resampling.LANCZOS)
            # Fresh pixels, no metadata: nothing of the upload but its picture survives.
            clean = Image.new("RGBA", pixels.size)
            clean.paste(pixels)
            return _encode_png(clean)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, *images._DECODE_ERRORS) as exc:  # noqa: SLF001
            raise ImageRejected(Refusal.corrupt, repr(exc)) from exc
        finally:
            image.close()


def square_icon(logo_png: bytes, size: int, *, background: tuple[int, int, int, int] = (255, 255, 255, 0),
                padding: float = 0.0) -> Image.Image:
    """The logo centred on a `size` x `size` square (RGBA) of `background`, with `padding`
    (a fraction of `size`) on every side."""
    with Image.open(io.BytesIO(logo_png), formats=["PNG"]) as source:
        logo = source.convert("RGBA")
    inner = max(1, round(size * (1 - 2 * padding)))
    logo = logo.resize(images.fit(logo.size, (inner, inner)) if max(logo.size) >= inner
                       else _enlarged(logo.size, inner), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (size, size), background)
    canvas.alpha_composite(logo, ((size - logo.width) // 2, (size - logo.height) // 2))
    return canvas


def _enlarged(size: tuple[int, int], box: int) -> tuple[int, int]:
    scale = box / max(size)
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def icon_png(logo_png: bytes, size: int, *, opaque: bool = False, maskable: bool = False) -> bytes:
    """A square PNG icon of `size` px from the logo; `opaque` on white with a margin (the
    apple-touch-icon: iOS fills transparency with black); `maskable` on white with the logo
    inside the central circle of 80 % that every mask keeps (the W3C manifest's safe zone)."""
    if maskable:
        image = square_icon(logo_png, size, background=(255, 255, 255, 255), padding=0.22).convert("RGB")
    elif opaque:
        image = square_icon(logo_png, size, background=(255, 255, 255, 255), padding=0.1).convert("RGB")
    else:
        image = square_icon(logo_png, size)
    return _encode_png(image)


def favicon_ico(logo_png: bytes) -> bytes:
    """favicon.ico (16, 32 and 48 px) from the logo."""
    out = io.BytesIO()
    square_icon(logo_png, 48).save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG we wrote, from its header."""
    return (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
