"""The contrast computation against known pairs (WCAG 2.1 SC 1.4.3, relative luminance)."""

import pytest

from app.identity import contrast


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("#000000", "#ffffff", 21.0),
    ("#ffffff", "#ffffff", 1.0),
    ("#777777", "#ffffff", 4.48),  # the classic "grey that just fails" (4.478...)
    ("#767676", "#ffffff", 4.54),  # the lightest grey that passes on white
    ("#0b5c4f", "#ffffff", 7.9),  # the platform's own green
    ("#ff0000", "#ffffff", 4.0),
])
def test_known_pairs(first: str, second: str, expected: float) -> None:
    ratio = contrast.contrast_ratio(contrast.parse_hex(first), contrast.parse_hex(second))
    assert ratio == pytest.approx(expected, abs=0.01)
    # Order does not matter.
    assert contrast.contrast_ratio(contrast.parse_hex(second), contrast.parse_hex(first)) == ratio


def test_luminance_ends_and_rounding_down() -> None:
    assert contrast.relative_luminance((0, 0, 0)) == 0.0
    assert contrast.relative_luminance((255, 255, 255)) == pytest.approx(1.0)
    # A refused ratio is never shown as if it passed.
    assert contrast.shown_ratio(4.4999) == 4.49
    assert contrast.shown_ratio(contrast.contrast_ratio((0x77,) * 3, (255,) * 3)) == 4.47  # 4.478


@pytest.mark.parametrize("bad", ["777777", "#77777", "#gggggg", "red", "#7777777", ""])
def test_only_hash_and_six_hex_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="colour"):
        contrast.parse_hex(bad)
