"""The geometry of the report's bar charts, drawn as SVG by `templates/council/_charts.html` with
presentation attributes only (the CSP forbids inline styles), so a test can check that every
element stays inside the viewBox.

Each row of a breakdown (a district, a week...) has a label line and one bar per measure (ideas,
supports, comments). All bars of a chart share one scale, the largest count of the chart, and the
count is written after each bar: a chart never makes 3 ideas look as large as 300 supports. The
viewBox is as wide as a phone's column so that its text stays readable when scaled down.
"""

from dataclasses import dataclass

from app.council.figures import Slice

WIDTH = 320
TRACK = 250  # the largest count of the chart
COUNT_X = TRACK + 6
LABEL_SIZE = 16  # every text of the chart: 16 px at its natural size, as the phone checks want
BAR_HEIGHT = 12
BAR_GAP = 6
LEGEND_LINE = 22
LABEL_CHARS = 32  # longer labels are cut with an ellipsis in the chart (the table has them whole)
MEASURES = ("ideas", "supports", "comments")
COLOURS = {"ideas": "#0b5c4f", "supports": "#1f5fa8", "comments": "#7a3f8f"}  # 7:1 or more on white


@dataclass
class Bar:
    measure: str
    value: int
    y: int
    width: float
    colour: str


@dataclass
class Row:
    label: str
    y: int  # the baseline of its label
    bars: list[Bar]


@dataclass
class Chart:
    width: int
    height: int
    count_x: int
    label_size: int
    bar_height: int
    legend: list[tuple[str, int, str]]  # (measure, baseline y, colour)
    rows: list[Row]


def bar_width(value: int, largest: int) -> float:
    """`value` on a track of TRACK units for `largest`, to a tenth; a non-zero count is at least one unit."""
    if largest <= 0 or value <= 0:
        return 0.0
    return max(round(TRACK * value / largest, 1), 1.0)


def bar_chart(parts: list[Slice], labels: list[str]) -> Chart:
    """The chart of `parts`, labelled by `labels` (same order, already translated): a legend of the
    three measures, then for each part its label and three bars on a common scale."""
    largest = max([getattr(p, m) for p in parts for m in MEASURES] or [0])
    legend = [(measure, LEGEND_LINE * (n + 1) - 5, COLOURS[measure]) for n, measure in enumerate(MEASURES)]
    y = LEGEND_LINE * len(MEASURES) + 12
    rows = []
    for part, label in zip(parts, labels, strict=True):
        top = y + LABEL_SIZE
        bars = [Bar(m, getattr(part, m), top + 6 + n * (BAR_HEIGHT + BAR_GAP), bar_width(getattr(part, m), largest),
                    COLOURS[m]) for n, m in enumerate(MEASURES)]
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"
        rows.append(Row(short, top, bars))
        y = bars[-1].y + BAR_HEIGHT + 14
    return Chart(WIDTH, y, COUNT_X, LABEL_SIZE, BAR_HEIGHT, legend, rows)
