"""The dialogue chart (issue 10, defect 13): every element inside the viewBox, bars proportional
to one shared whole (the published ideas), an axis that says so, readable on a phone.

It used to draw 300-unit bars from x=170 in a 460-unit viewBox, counts at x=476 (outside), and
scaled bars to the largest count: five answers of one each, out of forty ideas, were five full
bars."""

import re
import xml.etree.ElementTree as ET

import pytest
from PIL import ImageFont
from sqlmodel import Session

from app.moderation import dialogue
from tests.factories import make_call, make_idea
from tests.support import WebClient

SVG = "{http://www.w3.org/2000/svg}"
# Text is measured in DejaVu Sans, the widest font of the chart's font stack (and what Linux
# browsers fall back to); Debian's fonts-dejavu-core, which scripts/setup installs.
FONTS = "/usr/share/fonts/truetype/dejavu/"


def _float(el: ET.Element, name: str, default: float = 0.0) -> float:
    return float(el.get(name, default))


def _text_extent(el: ET.Element) -> tuple[float, float]:
    """(left, right) of a text element, estimated from its length and anchor."""
    text = "".join(el.itertext())
    size = _float(el, "font-size", 16)
    face = "DejaVuSans-Bold.ttf" if el.get("font-weight") == "700" else "DejaVuSans.ttf"
    length = ImageFont.truetype(FONTS + face, round(size)).getlength(text)
    x = _float(el, "x")
    anchor = el.get("text-anchor", "start")
    if anchor == "end":
        return x - length, x
    if anchor == "middle":
        return x - length / 2, x + length / 2
    return x, x + length


def _chart(client: WebClient, slug: str, lang: str) -> ET.Element:
    response = client.get(f"/calls/{slug}/dialogue.svg?lang={lang}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    return ET.fromstring(response.text)


@pytest.mark.parametrize("lang", ["fr", "en", "nl", "de"])
def test_five_answers_out_of_forty_ideas_are_five_short_bars_inside_the_picture(
        client: WebClient, session: Session, lang: str) -> None:
    call = make_call(session, phase="voting")
    statuses = ["under_study", "accepted", "partly_accepted", "rejected", "implemented"]
    for n in range(40):
        make_idea(session, call, status="published", answer_status=statuses[n] if n < 5 else None)
    session.commit()

    svg = _chart(client, call.slug, lang)
    _x, _y, width, height = (float(v) for v in svg.get("viewBox", "").split())
    assert (svg.get("width"), svg.get("height")) == (f"{width:g}", f"{height:g}")
    assert width <= 360, "wider than a phone's column: the text would shrink below readable"

    for rect in svg.iter(f"{SVG}rect"):
        x, y, w, h = (_float(rect, a) for a in ("x", "y", "width", "height"))
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, ET.tostring(rect)
    for line in svg.iter(f"{SVG}line"):
        for a, limit in (("x1", width), ("x2", width), ("y1", height), ("y2", height)):
            assert 0 <= _float(line, a) <= limit, ET.tostring(line)
    texts = list(svg.iter(f"{SVG}text"))
    for text in texts:
        left, right = _text_extent(text)
        size = _float(text, "font-size", 16)
        assert left >= 0 and right <= width, f"{''.join(text.itertext())!r} spans {left:.0f}..{right:.0f}"
        assert size <= _float(text, "y") <= height, ET.tostring(text)
        assert size >= 14, "text under 14 units is unreadable once a phone scales the chart down"

    # Bars: the grey track is the whole (40 ideas); each answer status is 1/40 of it, not a full bar.
    layout = dialogue.chart_layout(dialogue.figures(session, call.id))
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") not in ("#ffffff", "#e6efed")]
    tracks = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") == "#e6efed"]
    assert len(bars) == len(tracks) == 1 + len(statuses)
    track = _float(tracks[0], "width")
    assert track == layout.track
    widths = [_float(bar, "width") for bar in bars]
    assert widths[0] == pytest.approx(track * 5 / 40, abs=0.1)  # answered: 5 of 40
    assert widths[1:] == [pytest.approx(track / 40, abs=0.1)] * 5
    # Every count is written, inside the picture, and the axis says what the whole is.
    counts = [t for t in texts if re.fullmatch(r"\d+", "".join(t.itertext()))]
    assert ["".join(t.itertext()) for t in counts] == ["5", "1", "1", "1", "1", "1"]
    words = " ".join("".join(t.itertext()) for t in texts)
    assert re.search(r"100\s?%", words) and re.search(r"\b0\s?%", words)
    assert "40" in words.split("%")[-1]  # "Share of the 40 published ideas", after the ticks


def test_the_call_page_sizes_the_chart_as_drawn(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    make_idea(session, call, status="published", answer_status="accepted")
    make_idea(session, call, status="published")
    session.commit()
    page = client.get(f"/calls/{call.slug}").text
    img = re.search(r'<img class="dialogue-chart"[^>]*>', page)
    assert img is not None
    svg = _chart(client, call.slug, "fr")
    _x, _y, width, height = svg.get("viewBox", "").split()
    assert f'width="{width}"' in img.group(0) and f'height="{height}"' in img.group(0)
    # Half of the ideas answered: half of the track.
    figures = dialogue.figures(session, call.id)
    assert figures.chart.rows[0].width == figures.chart.track / 2


def test_bar_width_is_a_share_of_the_whole() -> None:
    assert dialogue.bar_width(0, 40) == 0
    assert dialogue.bar_width(3, 0) == 0
    assert dialogue.bar_width(40, 40) == dialogue.TRACK_WIDTH
    assert dialogue.bar_width(10, 40) == dialogue.TRACK_WIDTH / 4
    assert dialogue.bar_width(1, 100_000) == 1.0  # a count that exists stays visible
