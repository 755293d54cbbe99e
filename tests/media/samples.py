"""Images for the photo tests, made with Pillow or crafted byte by byte."""

import io
import struct
import zlib
from fractions import Fraction
from functools import cache
from typing import Any

from PIL import Image, ImageCms, ImageDraw

GPS_LATITUDE = (Fraction(50), Fraction(38), Fraction(2_345, 100))  # Liège, Place Saint-Lambert
SECRET_WORDS = (b"SecretCamera", b"Ann Onymous", b"my-secret-comment", b"GPSInfo-marker")


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def picture(size: tuple[int, int] = (640, 480), mode: str = "RGB") -> Image.Image:
    """A picture whose top half is red and bottom half blue (to check orientation)."""
    image = Image.new(mode, size, (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, size[0], size[1] // 2 - 1), fill=(255, 0, 0))
    return image


def gps_jpeg(orientation: int = 1, *, icc: bool = True) -> bytes:
    """A JPEG with camera EXIF, a GPS IFD, XMP, a comment and (unless told) an ICC profile."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x013B] = "Ann Onymous"  # Artist
    exif[0x0112] = orientation
    exif[0x8825] = {  # GPSInfo IFD
        1: "N",
        2: GPS_LATITUDE,
        3: "E",
        4: (Fraction(5), Fraction(34), Fraction(1_234, 100)),
        27: b"ASCII\x00\x00\x00GPSInfo-marker",  # GPSProcessingMethod
    }
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="50,38.23N"'
           b' xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Ann Onymous"/></rdf:RDF></x:xmpmeta>')
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if icc else None
    return encode(picture(), "JPEG", exif=exif, xmp=xmp, comment=b"my-secret-comment", icc_profile=profile,
                  quality=90)


@cache
def png_bomb(complete: bool = True) -> bytes:
    """A 20000x20000 1-bit PNG: 400 megapixels (1.2 GB once in RGB) in a few dozen KB.

    Complete: every row compressed (~49 KB, a valid image). Otherwise only the header and the
    first rows (~2 KB): the shape attackers send to probe.
    """
    width = height = 20_000
    row = bytes(1 + width // 8)
    compressor = zlib.compressobj(9)
    rows = height if complete else 400
    parts = [compressor.compress(row * 400) for _ in range(rows // 400)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


def webp_bomb() -> bytes:
    """A WebP header announcing a 16383x16383 canvas (268 MP), with no image data."""
    vp8x = bytes([0x10, 0, 0, 0]) + (16382).to_bytes(3, "little") + (16382).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png_with_text_chunk(text: bytes) -> bytes:
    """A valid PNG carrying `text` in a tEXt chunk (e.g. an HTML payload)."""
    raw = encode(picture((64, 48)), "PNG")
    iend = raw.rindex(b"IEND") - 4
    return raw[:iend] + _png_chunk(b"tEXt", b"Comment\x00" + text) + raw[iend:]


def animated(fmt: str, frames: int = 3) -> bytes:
    images = [Image.new("RGB", (60, 40), color) for color in ("red", "green", "blue", "white")[:frames]]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, loop=0)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
