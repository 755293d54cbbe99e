"""The photo pipeline: bytes in, clean re-encoded variants out. Pure Pillow, no I/O, no database.

It imports nothing of the application: for uploads it runs in `app.media.sandbox`'s children,
whose server loads this file alone (with Pillow) to stay small.

What it promises, in the order the checks run:

1. Size: more than `max_bytes` is refused before anything is parsed.
2. Type by content: only JPEG, PNG and WebP, recognised by their magic bytes, and then opened
   with *only* the matching Pillow plugin (`Image.open(formats=[...])`), whose detected format
   must agree. File names and client content types are never looked at (this module never
   sees them). PSD, SVG, PDF, HTML, GIF, TIFF, HEIC... are refused as "unsupported".
3. Pixels: more than `max_pixels` is refused from the header alone, before any pixel is
   decoded (`Image.open` is lazy; for WebP, whose decoder allocates its canvas on open, the
   dimensions are read from the RIFF header first). Pillow's own bomb guard
   (`Image.MAX_IMAGE_PIXELS`) is kept at least at our limit as a second net, and its
   DecompressionBombError/Warning are refusals too.
4. Frames: animated PNG (APNG) and animated WebP with more than one frame are *refused*, not
   flattened: the first frame of an animation is often not what the person meant to show,
   and a refusal with a clear message lets them choose a still. A JPEG carrying several
   pictures (MPO, written by some phones and stereo cameras) is a photo plus previews: its
   first, primary picture is used.
5. Decoding: JPEG is decoded with `draft()`, which lets libjpeg scale down by 1/2, 1/4 or 1/8
   while decoding (never below the largest variant). A truncated or corrupt file is refused.
6. Output: EXIF orientation applied; colours converted to sRGB when an ICC profile is present
   (dropped if it cannot be used); transparency flattened onto white; every variant built
   from fresh pixels with an empty `info`, so no EXIF (GPS included), XMP, ICC, comment or
   text chunk survives.

Output format: JPEG (progressive for the display size, baseline below). WebP would be ~5-25%
smaller, but on the 2-core machines this platform runs on libwebp needs 70-190 ms (method
0-4) to encode one 1600 px variant where libjpeg needs 15-35 ms; JPEG also stays readable by
every mail client, social network and open-data reuser. Citizen photos rarely need
transparency, which is flattened onto white.
"""

import io
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

CONTENT_TYPE = "image/jpeg"
EXTENSION = "jpg"

# Boxes each variant must fit in (aspect ratio kept, never enlarged).
VARIANT_SIZES: dict[str, tuple[int, int]] = {
    "display": (1600, 1600),  # the idea page, full width on a desktop
    "card": (800, 800),  # idea cards and call covers on phones with 2x screens
    "thumb": (480, 480),  # small thumbnails, lists, admin
}
_QUALITY = {"display": 82, "card": 80, "thumb": 78}

# Magic bytes -> the only Pillow plugin allowed to open the file, and the formats it may report.
_PLUGINS: dict[str, frozenset[str]] = {
    "JPEG": frozenset({"JPEG", "MPO"}),
    "PNG": frozenset({"PNG"}),
    "WEBP": frozenset({"WEBP"}),
}

_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Decoding a 40 MP PNG takes ~160 MB: a process handles a couple at a time, not forty (the size
# of the thread pool). Others wait their turn. (Uploads are decoded in app.media.sandbox's
# single-threaded children; the logo, app.identity.logo, in the web process.)
_DECODE_SLOTS = threading.BoundedSemaphore(2)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

# Everything Pillow and its codecs raise on damaged input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
                  ZeroDivisionError)


class Refusal(StrEnum):
    empty = "empty"
    too_large = "too_large"
    unsupported = "unsupported"
    too_many_pixels = "too_many_pixels"
    animated = "animated"
    corrupt = "corrupt"


class ImageRejected(Exception):
    """The input is not an acceptable photo. `reason` says why; the caller words it."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else str(reason))


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    source_format: str  # "JPEG", "PNG" or "WEBP" (what the content was, not what it claimed)
    width: int  # upright dimensions of the source, after EXIF orientation
    height: int
    variants: dict[str, Variant]
    content_type: str = CONTENT_TYPE
    extension: str = EXTENSION
    decoded_by: int = 0  # the id of the process that decoded it (app.media.sandbox: a child)


def sniff_format(data: bytes) -> str | None:
    """The format named by the first bytes, among the accepted ones; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def webp_dimensions(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP header (VP8X, VP8 or VP8L first chunk), without decoding."""
    if len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1)
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return None


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down to fit in `box`, aspect ratio kept, never enlarged, never 0."""
    width, height = size
    scale = min(1.0, box[0] / width, box[1] / height)
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def _raise_pillow_limit(max_pixels: int) -> None:
    # Pillow's guard is process-wide. Keep it at least at our limit, so that what we accept it
    # accepts too; never lower it (other code, e.g. font rendering, goes through it as well).
    current = Image.MAX_IMAGE_PIXELS
    if current is None or current < max_pixels:
        Image.MAX_IMAGE_PIXELS = max(max_pixels, 1)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageRejected(Refusal.corrupt, "empty canvas")
    if width * height > max_pixels:
        raise ImageRejected(Refusal.too_many_pixels, f"{width}x{height}")


def _open(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    """Opens the header with the one allowed plugin and checks size and frames. No decoding."""
    if fmt == "WEBP":
        dims = webp_dimensions(data)
        if dims is None:
            raise ImageRejected(Refusal.corrupt, "unreadable WebP header")
        _check_pixels(dims, max_pixels)
    try:
        # catch_warnings is process-wide, not per thread: at worst another thread's bomb warning
        # also becomes an error, which is what we want for images anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(Refusal.too_many_pixels, str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(Refusal.corrupt, "unidentified") from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected(Refusal.corrupt, repr(exc)) from exc
    if image.format not in _PLUGINS[fmt]:
        raise ImageRejected(Refusal.unsupported, str(image.format))
    _check_pixels(image.size, max_pixels)
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format != "MPO":
        raise ImageRejected(Refusal.animated, f"{frames} frames")
    return image


def _orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation; a damaged EXIF block means "as stored", not a refusal."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) else 1


def _normalise_mode(image: Image.Image) -> Image.Image:
    """A mode that resizes well: RGB, RGBA, L, LA or CMYK."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "PA":
        return image.convert("RGBA")
    if mode.startswith("I") or mode == "F":
        # 16-bit or float greyscale: scale to 8 bits rather than clip everything to white.
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    return image.convert("RGBA" if "A" in mode else "RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA pixels in sRGB: converted with the embedded profile when it is usable."""
    has_alpha = image.mode in ("RGBA", "LA")
    target = "RGBA" if has_alpha else "RGB"
    if image.mode == "LA":
        image = image.convert("RGBA")
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=target)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            pass  # an unusable profile is dropped; the pixels are taken as sRGB
    return image if image.mode == target else image.convert(target)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB without alpha: transparent areas become white (JPEG has no transparency)."""
    if image.mode != "RGBA":
        return image
    alpha = image.getchannel("A")
    if alpha.getextrema() == (255, 255):
        return image.convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=alpha)
    return background


def _encode(image: Image.Image, name: str) -> bytes:
    image.info = {}  # JPEG's encoder would otherwise carry over e.g. the source's comment
    out = io.BytesIO()
    # Progressive (~6% smaller, shows early on slow phones) is worth its CPU on the big one only.
    image.save(out, "JPEG", quality=_QUALITY.get(name, 80), optimize=True, progressive=name == "display")
    return out.getvalue()


def check_envelope(data: bytes, max_bytes: int) -> str:
    """The checks that need no decoding (promises 1 and 2's first half): the format named by the
    first bytes ("JPEG", "PNG" or "WEBP"); raises ImageRejected (empty, too_large, unsupported)."""
    if not data:
        raise ImageRejected(Refusal.empty)
    if len(data) > max_bytes:
        raise ImageRejected(Refusal.too_large, f"{len(data)} bytes")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageRejected(Refusal.unsupported, repr(data[:8]))
    return fmt


def process_image(data: bytes, *, max_bytes: int, max_pixels: int,
                  sizes: Mapping[str, tuple[int, int]] = VARIANT_SIZES) -> ProcessedImage:
    """Validates `data` and re-encodes it into `sizes` variants; raises ImageRejected.

    `sizes` must be ordered from the largest box to the smallest: each variant is resized from
    the previous one, which is much cheaper than from the source.
    """
    fmt = check_envelope(data, max_bytes)
    _raise_pillow_limit(max_pixels)
    with _DECODE_SLOTS:
        image = _open(data, fmt, max_pixels)
        try:
            return _process(image, fmt, sizes)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, *_DECODE_ERRORS) as exc:
            raise ImageRejected(Refusal.corrupt, repr(exc)) from exc
        finally:
            image.close()


def _process(image: Image.Image, fmt: str, sizes: Mapping[str, tuple[int, int]]) -> ProcessedImage:
    orientation = _orientation(image)
    swap = orientation in (5, 6, 7, 8)
    stored_size = image.size  # before draft(), which may make the decoded pixels smaller
    upright = (stored_size[1], stored_size[0]) if swap else stored_size
    targets = {name: fit(upright, box) for name, box in sizes.items()}
    first = next(iter(targets.values()))
    if fmt == "JPEG":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below the requested size.
        image.draft("RGB", (first[1], first[0]) if swap else first)
    icc_profile = image.info.get("icc_profile")
    image.load()
    pixels = _normalise_mode(image)

    variants: dict[str, Variant] = {}
    previous: Image.Image | None = None
    for name, target in targets.items():
        if previous is None:
            # The largest variant comes from the source: resized in stored orientation, then
            # colours converted and orientation applied once, on few pixels.
            stored_target = (target[1], target[0]) if swap else target
            # Bicubic, after a cheap box reduction when the source is over 3x too big (PNG
            # and WebP, which cannot be drafted): close to Lanczos at half the CPU.
            current = pixels if pixels.size == stored_target else pixels.resize(
                stored_target, Image.Resampling.BICUBIC, reducing_gap=3.0)
            current = _flatten(_to_srgb(current, icc_profile))
            transpose = _ORIENTATION.get(orientation)
            if transpose is not None:
                current = current.transpose(transpose)
        else:
            current = previous if previous.size == target else previous.resize(
                target, Image.Resampling.BICUBIC)
        variants[name] = Variant(name, current.width, current.height, _encode(current, name))
        previous = current
    return ProcessedImage(source_format=fmt, width=upright[0], height=upright[1], variants=variants,
                          decoded_by=os.getpid())
