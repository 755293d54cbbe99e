"""Dialogue figures: how well the city answers, per call and over the whole platform.

Shown on each call page and in the admin dashboard as server-side SVG charts (drawn by the
template `moderation/dialogue_chart.svg` with presentation attributes only, since the CSP forbids
inline styles) and a table with the same numbers for screen readers and without images.

The chart is honest about scale: every bar is drawn against the same whole, the published ideas
of the call, on an axis labelled in percent. Five answers out of forty are five short bars, not
five full ones. Its geometry is computed here (`chart_layout`) so that a test can check that
everything stays inside the viewBox, whose width is close to a phone's so that its text stays
readable when the image is scaled down.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median

import sqlalchemy as sa
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.audit import AuditAction, AuditEntry, TargetType
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import AnswerStatus, Idea, IdeaStatus
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


def figures(session: Session, call_id: int | None = None, waiting_days: int = WAITING_DAYS,
            now: datetime | None = None) -> DialogueFigures:
    """The dialogue figures of one call (`call_id`) or of the whole platform: published ideas, how many
    have an official answer and with which status, and how many have waited more than `waiting_days`
    without one, as of `now` (default: the clock)."""
    now = now or utcnow()
    visible = [col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None)]
    if call_id is not None:
        visible.append(col(Idea.call_id) == call_id)
    result = DialogueFigures(waiting_days=waiting_days)
    # One scan of the call's published ideas for every count: how many, how many answered with
    # each status, how many waiting for an answer for more than `waiting_days`.
    waited_since = func.coalesce(Idea.published_at, Idea.created_at) <= now - timedelta(days=waiting_days)
    counted = session.execute(
        sa.select(func.count(), *(func.sum(sa.case((col(Idea.answer_status) == status.value, 1), else_=0))
                                  for status in AnswerStatus),
                  func.sum(sa.case((col(Idea.answer_status).is_(None) & waited_since, 1), else_=0)))
        .where(*visible)
    ).one()
    result.ideas = int(counted[0])
    counts = {status.value: int(n or 0) for status, n in zip(AnswerStatus, counted[1:-1], strict=True)}
    result.waiting = int(counted[-1] or 0)
    result.answered = sum(counts.values())
    # Scaled to all published ideas, not to the largest count: five answers out of forty ideas
    # must not look like five full bars.
    result.by_status = [Bar(status.value, counts[status.value], bar_width(counts[status.value], result.ideas))
                        for status in AnswerStatus]
    # Days from publication to the first official answer, from the audit log.
    first_answer = (
        select(AuditEntry.target_id, func.min(AuditEntry.created_at).label("first"))
        .where(AuditEntry.action == AuditAction.answer, AuditEntry.target_type == TargetType.idea)
        .group_by(col(AuditEntry.target_id)).subquery()
    )
    # Answers recorded before the audit log existed (imports, demo data) count from answered_at.
    pairs = session.execute(
        sa.select(func.coalesce(Idea.published_at, Idea.created_at),
                  func.coalesce(first_answer.c.first, Idea.answered_at))
        .join(first_answer, first_answer.c.target_id == col(Idea.id), isouter=True)
        .where(*visible, col(Idea.answer_status).is_not(None))
    ).all()
    delays = [_days(_aware(start), _aware(first)) for start, first in pairs if start and first]
    result.median_days = round(median(delays), 1) if delays else None
    # Comments answered by the city: ideas where citizens commented and staff replied; the three
    # counts in one statement.
    staff_ids = select(User.id).where(col(User.role).in_((Role.moderator, Role.admin)))
    comment_base = (select(Comment.idea_id).join(Idea, col(Idea.id) == col(Comment.idea_id))
                    .where(*visible, col(Comment.deleted_at).is_(None), col(Comment.hidden_at).is_(None)))
    citizen_ideas = comment_base.where(col(Comment.author_id).not_in(staff_ids)).distinct().subquery()
    staff_ideas = comment_base.where(col(Comment.author_id).in_(staff_ids)).distinct().subquery()
    staff_comments = (select(func.count()).select_from(Comment).join(Idea, col(Idea.id) == col(Comment.idea_id))
                      .where(*visible, col(Comment.author_id).in_(staff_ids), col(Comment.deleted_at).is_(None),
                             col(Comment.hidden_at).is_(None)))
    commented, replied, by_staff = session.execute(sa.select(
        select(func.count()).select_from(citizen_ideas).scalar_subquery(),
        select(func.count()).select_from(citizen_ideas)
        .where(citizen_ideas.c.idea_id.in_(select(staff_ideas.c.idea_id))).scalar_subquery(),
        staff_comments.scalar_subquery(),
    )).one()
    result.commented_ideas, result.city_replied, result.staff_comments = int(commented), int(replied), int(by_staff)
    return result


def chart_response(f: DialogueFigures) -> Response:
    """The figures as an SVG image (escaped by the template engine like any page)."""
    svg = env.get_template("moderation/dialogue_chart.svg").render(f=f, chart=chart_layout(f))
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "max-age=300"})


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes from aggregates; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
