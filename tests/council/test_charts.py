"""The report's charts keep every element inside their viewBox and draw every bar on one scale."""

from app.council.charts import COUNT_X, TRACK, WIDTH, bar_chart
from app.council.figures import Slice


def test_bars_share_one_scale_and_stay_inside_the_viewbox() -> None:
    parts = [Slice("1", ideas=3, supports=300, comments=0), Slice("2", ideas=1, supports=150, comments=12)]
    chart = bar_chart(parts, ["Nord", "Sud"])
    bars = [bar for row in chart.rows for bar in row.bars]
    assert [b.width for b in bars] == [2.5, TRACK, 0.0, 1.0, 125.0, 10.0]
    assert all(b.width <= TRACK < COUNT_X for b in bars)
    assert COUNT_X + len("300") * 9 <= WIDTH  # the counts, about 9 units a digit at 16 px
    assert all(b.y + chart.bar_height <= chart.height for b in bars)
    assert chart.rows[0].y > max(y for _m, y, _c in chart.legend)
    assert [r.label for r in chart.rows] == ["Nord", "Sud"]


def test_an_empty_breakdown_draws_no_bar() -> None:
    chart = bar_chart([Slice("1")], ["Nord"])
    assert all(b.width == 0.0 for b in chart.rows[0].bars)


def test_long_labels_are_cut_in_the_chart() -> None:
    chart = bar_chart([Slice("1")], ["Aménagement des espaces publics et de la mobilité douce"])
    assert chart.rows[0].label.endswith("…") and len(chart.rows[0].label) <= 32
