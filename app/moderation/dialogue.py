"""Dialogue figures: how well the city answers, per call and over the whole platform.

Shown on each call page and in the admin dashboard as server-side SVG charts (drawn by the
template `moderation/dialogue_chart.svg` with presentation attributes only, since the CSP forbids
inline styles) and a table with the same numbers for screen readers and without images.

The chart is honest about scale: every bar is drawn against the same whole, the published ideas
of the call, on an axis labelled in percent. Five answers out of forty are five short bars, not
five full ones. Its geometry is computed here (`chart_layout`) so that a test can check that
everything stays inside the viewBox, whose width is close to a phone's so that its text stays
readable when the image is scaled down.

The figures are read, never counted (issue 14: counting them scanned every idea and comment, 2.3 s
for the platform at 100,000 ideas on SQLite, after every write since any write makes pages stale).
Database triggers of migration 0041 keep what they sum:

- per idea, `citizen_comments` and `staff_comments`: its shown comments (neither deleted nor
  hidden) by a citizen and by staff. "Staff" is the author's role *now* (moderator or admin), as
  the figures always counted: a person made moderator turns their past comments into the city's
  replies, and back. A comment whose author deleted their account counts as neither;
- per idea, `first_answer_at` (the earliest audit entry "answer") and `answer_days` (days from
  publication, else creation, to that answer, else to `answered_at`; NULL if unanswered);
- per call, up to 64 `DialogueTally` rows (app.moderation.models, one per idea id modulo 64):
  the sums over its ideas of what each contributes (published and visible; answered, per status;
  unanswered; with a delay; commented by citizens; of which staff replied; staff comments). A call
  is the sum of its rows, the platform of all (64 per call: thousands, not ideas). One row per
  call made a bulk load quadratic on PostgreSQL (each update in a transaction walks the row's
  earlier versions: the benchmark's fill of 100,000 ideas did not end in 20 minutes) and put
  every writer of a call in line for one row lock.

Why triggers and not the services: the figures move with writes of many kinds (publication,
hiding, answers, comments and their moderation, role changes, merges, account deletion, idea
deletion with its comments by ON DELETE CASCADE, the benchmark's and imports' bulk inserts, core
UPDATEs), written by a dozen modules; a trigger sees each row written whatever wrote it, so the
tallies stay equal to a recount without any path to remember. Each trigger adds what the row
contributes after the write and takes away what it contributed before, so their order does not
matter. The cost: an idea's write that changes its contribution updates one of its call's tally rows
(a row lock held to the commit on PostgreSQL); supports, edits and other counters do
not (the triggers' WHEN clauses compare contributions).

Two figures cannot be kept: "waiting" moves with the clock, so it is the unanswered ideas of the
tally less those published after the cutoff (a range of the partial index `ix_idea_unanswered`,
read from the index alone: its cost grows with the ideas of the last `waiting_days` days); the
median needs values, so the one or two middle rows are read at an OFFSET of the partial index
`ix_idea_answer_days` (cost: half the answered ideas' index entries; a per-call histogram would
be read faster but give the median to its bucket's width, not the exact value).
`tests/moderation/test_dialogue_tallies.py` checks them against the full recount.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median

import sqlalchemy as sa
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session

from app.clock import utcnow
from app.idea.models import AnswerStatus, Idea
from app.moderation.models import DialogueTally
from app.web import env

WAITING_DAYS = 30

# The chart's geometry, in viewBox units (one unit is one CSS pixel at the image's natural size).
CHART_WIDTH = 320  # the viewBox; a phone's column is 290 to 360 px wide: text stays near 16 px
TRACK_WIDTH = 250  # a bar for 100% of the ideas (the grey track); its count is written after it
COUNT_X = TRACK_WIDTH + 8  # where the counts start, inside the viewBox
ROW_HEIGHT = 48  # a label line and its bar
LABEL_SIZE = 16
BAR_HEIGHT = 16
AXIS_HEIGHT = 58  # ticks, their percentages and the axis caption
TICKS = (0, 25, 50, 75, 100)
LABELLED_TICKS = (0, 50, 100)  # labels at 25 and 75% would touch on a phone


@dataclass
class Bar:
    key: str
    value: int
    width: float  # in viewBox units: the share of all published ideas, out of TRACK_WIDTH


def bar_width(value: int, total: int) -> float:
    """`value` out of `total` as a bar on the shared track: proportional, to a tenth of a unit.
    A non-zero count is never drawn thinner than one unit, so that it stays visible."""
    if total <= 0 or value <= 0:
        return 0.0
    return max(round(TRACK_WIDTH * min(value, total) / total, 1), 1.0)


@dataclass
class ChartRow:
    key: str  # "answered", or an answer status
    value: int
    width: float
    y: int  # the top of the row (its label); the bar is below the label


@dataclass
class ChartLayout:
    """Where the chart draws each element, in viewBox units (see the module docstring)."""

    width: int
    height: int
    track: int
    count_x: int
    label_size: int
    bar_height: int
    rows: list[ChartRow]
    axis_y: int  # the line under the last bar
    ticks: list[tuple[int, float, bool]]  # (percent, x, labelled)


@dataclass
class DialogueFigures:
    ideas: int = 0  # published, visible ideas
    answered: int = 0
    median_days: float | None = None
    waiting: int = 0  # unanswered for more than `waiting_days`
    waiting_days: int = WAITING_DAYS
    commented_ideas: int = 0  # ideas with at least one citizen comment
    city_replied: int = 0  # ... of which the city (staff) commented on
    staff_comments: int = 0
    by_status: list[Bar] = field(default_factory=list)

    @property
    def answered_share(self) -> int:
        return round(100 * self.answered / self.ideas) if self.ideas else 0

    @property
    def replied_share(self) -> int:
        return round(100 * self.city_replied / self.commented_ideas) if self.commented_ideas else 0

    @property
    def chart(self) -> ChartLayout:
        return chart_layout(self)


def chart_layout(f: DialogueFigures) -> ChartLayout:
    """The chart of `f`: one row for the ideas answered, then one per answer status, each bar the
    share of `f.ideas` (the published ideas), above an axis from 0 to 100%."""
    rows = [ChartRow("answered", f.answered, bar_width(f.answered, f.ideas), 0)]
    for index, bar in enumerate(f.by_status, start=1):
        rows.append(ChartRow(bar.key, bar.value, bar.width, index * ROW_HEIGHT))
    axis_y = len(rows) * ROW_HEIGHT
    return ChartLayout(
        width=CHART_WIDTH, height=axis_y + AXIS_HEIGHT, track=TRACK_WIDTH, count_x=COUNT_X,
        label_size=LABEL_SIZE, bar_height=BAR_HEIGHT, rows=rows, axis_y=axis_y,
        ticks=[(percent, TRACK_WIDTH * percent / 100, percent in LABELLED_TICKS) for percent in TICKS],
    )


def _days(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0) / 86400


# The conditions of the partial indexes of migration 0041 (app.idea.models.DIALOGUE_INDEXES),
# written out as literals: SQLite uses a partial index only for a query whose WHERE repeats its
# terms, which a bound parameter does not.
_VISIBLE = "idea.status = 'published' AND idea.hidden_at IS NULL"
_TALLY_COUNTS = ("ideas", "unanswered", *(f"answered_{status.value}" for status in AnswerStatus), "delays",
                 "commented_ideas", "city_replied", "staff_comments")


def figures(session: Session, call_id: int | None = None, waiting_days: int = WAITING_DAYS,
            now: datetime | None = None) -> DialogueFigures:
    """The dialogue figures of one call (`call_id`) or of the whole platform: published ideas, how many
    have an official answer and with which status, and how many have waited more than `waiting_days`
    without one, as of `now` (default: the clock).

    Read, not counted (see the module docstring): the call's tally rows (the platform: the sum of
    all rows), the ideas published in the last `waiting_days` days still unanswered
    (a range of a partial index), and the one or two middle answer delays (an OFFSET into a
    partial index ordered by delay)."""
    now = now or utcnow()
    tally: sa.Table = DialogueTally.__table__  # type: ignore[attr-defined]
    query = sa.select(*(func.coalesce(func.sum(tally.c[name]), 0) for name in _TALLY_COUNTS))
    if call_id is not None:
        query = query.where(tally.c.call_id == call_id)
    sums = dict(zip(_TALLY_COUNTS, (int(n) for n in session.execute(query).one()), strict=True))
    result = DialogueFigures(waiting_days=waiting_days)
    result.ideas = sums["ideas"]
    counts = {status.value: sums[f"answered_{status.value}"] for status in AnswerStatus}
    result.answered = sum(counts.values())
    # Scaled to all published ideas, not to the largest count: five answers out of forty ideas
    # must not look like five full bars.
    result.by_status = [Bar(status.value, counts[status.value], bar_width(counts[status.value], result.ideas))
                        for status in AnswerStatus]
    result.waiting = sums["unanswered"] - _recently_published(session, call_id, now - timedelta(days=waiting_days))
    result.median_days = _median_days(session, call_id, sums["delays"])
    result.commented_ideas, result.city_replied = sums["commented_ideas"], sums["city_replied"]
    result.staff_comments = sums["staff_comments"]
    return result


def _recently_published(session: Session, call_id: int | None, cutoff: datetime) -> int:
    """The visible, unanswered ideas published (else created) after `cutoff`: those not waiting
    yet. Two ranges of `ix_idea_unanswered(_all)`, read from the index alone; their cost grows
    with the ideas of the last `waiting_days` days, not with all ideas."""
    ideas = _ideas_by(session, "ix_idea_unanswered" if call_id is not None else "ix_idea_unanswered_all")
    in_call = " AND idea.call_id = :call_id" if call_id is not None else ""
    return sum(int(session.execute(
        sa.text(f"SELECT count(*) FROM {ideas} WHERE {_VISIBLE} "  # noqa: S608 - constants, no input
                f"AND idea.answer_status IS NULL{in_call} AND {range_}")
        .bindparams(sa.bindparam("cutoff", cutoff, type_=_DATE), **({"call_id": call_id} if in_call else {}))
    ).scalar_one()) for range_ in ("idea.published_at > :cutoff",
                                   "idea.published_at IS NULL AND idea.created_at > :cutoff"))


def _median_days(session: Session, call_id: int | None, delays: int) -> float | None:
    """The median of the `delays` answered ideas' days from publication (else creation) to the
    first official answer (the earliest audit entry "answer", else `answered_at`), to a tenth.

    The middle one or two rows are read at an OFFSET of `ix_idea_answer_days(_all)`, which SQLite
    and PostgreSQL skip entry by entry (cost: half the answered ideas' index entries, no table
    row). Their delays are computed again here from the dates, as a full count would, so that the
    stored `answer_days` only orders them (on SQLite to a millisecond: julianday's precision)."""
    if delays <= 0:
        return None
    ideas = _ideas_by(session, "ix_idea_answer_days" if call_id is not None else "ix_idea_answer_days_all")
    in_call = " AND idea.call_id = :call_id" if call_id is not None else ""
    rows = session.execute(
        sa.text("SELECT coalesce(idea.published_at, idea.created_at) AS start, "  # noqa: S608 - constants
                f"coalesce(idea.first_answer_at, idea.answered_at) AS first FROM {ideas} "
                f"WHERE {_VISIBLE} AND idea.answer_days IS NOT NULL{in_call} "
                "ORDER BY idea.answer_days LIMIT :rows OFFSET :skip")
        .bindparams(rows=1 if delays % 2 else 2, skip=(delays - 1) // 2, **({"call_id": call_id} if in_call else {}))
        .columns(sa.column("start", _DATE), sa.column("first", _DATE))
    ).all()
    middle = [_days(_aware(start), _aware(first)) for start, first in rows if start and first]
    return round(median(middle), 1) if middle else None


_DATE = Idea.__table__.c.published_at.type  # type: ignore[attr-defined]


def _ideas_by(session: Session, index: str) -> str:
    """The idea table read by `index` on SQLite, whose planner, without statistics, took
    `ix_idea_status` instead for these queries (300 ms instead of 1 ms at 100,000 ideas); the
    index must exist, or the statement fails. PostgreSQL's planner chooses by its statistics."""
    return f"idea INDEXED BY {index}" if session.get_bind().dialect.name == "sqlite" else "idea"


def chart_response(f: DialogueFigures) -> Response:
    """The figures as an SVG image (escaped by the template engine like any page)."""
    svg = env.get_template("moderation/dialogue_chart.svg").render(f=f, chart=chart_layout(f))
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "max-age=300"})


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes from aggregates; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
