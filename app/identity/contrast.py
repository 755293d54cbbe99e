"""Colour contrast as WCAG 2.x defines it, to refuse brand colours people could not read.

WCAG 2.1 success criterion 1.4.3 "Contrast (Minimum)", level AA: text and images of text
have a contrast ratio of at least 4.5:1 (3:1 for large text). The ratio is
(L1 + 0.05) / (L2 + 0.05), L1 the relative luminance of the lighter colour, L2 of the darker;
it goes from 1:1 (the same colour) to 21:1 (black on white).

Relative luminance (WCAG 2.1, definition "relative luminance", sRGB):
L = 0.2126 * R + 0.7152 * G + 0.0722 * B, where each of R, G, B is the 8-bit channel c / 255
linearised: c / 12.92 if c <= 0.04045, else ((c + 0.055) / 1.055) ** 2.4. (WCAG 2.x prints
0.03928 as the threshold, from an old sRGB draft; no 8-bit value lies between the two, so the
results are identical.)
"""

import math
import re

AA_NORMAL_TEXT = 4.5  # WCAG 2.1 SC 1.4.3, normal text
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

RGB = tuple[int, int, int]


def parse_hex(value: str) -> RGB:
    """`#rrggbb` (any case) as (r, g, b) in 0-255. Raises ValueError for anything else."""
    value = value.strip()
    if not HEX_COLOUR.fullmatch(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def to_hex(rgb: RGB) -> str:
    """(r, g, b) in 0-255 as lower-case `#rrggbb`."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour, from 0.0 (black) to 1.0 (white)."""
    r, g, b = rgb
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(first: RGB, second: RGB) -> float:
    """WCAG 2.1 contrast ratio between two colours, from 1.0 to 21.0 (order does not matter)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def shown_ratio(ratio: float) -> float:
    """The ratio rounded *down* to two decimals, as shown to people: 4.4998 is 4.49, never a
    "4.50:1" that was refused."""
    return math.floor(ratio * 100) / 100


def mix(colour: RGB, other: RGB, weight: float) -> RGB:
    """`colour` mixed with `other`, `weight` (0-1) of `other`, per 8-bit channel (sRGB)."""
    return (round(colour[0] + (other[0] - colour[0]) * weight),
            round(colour[1] + (other[1] - colour[1]) * weight),
            round(colour[2] + (other[2] - colour[2]) * weight))
