"""Dialogue figures: how well the city answers, per call and over the whole platform.

Shown on each call page and in the admin dashboard as server-side SVG charts (drawn by the
template `moderation/_dialogue.html` with presentation attributes only, since the CSP forbids
inline styles) and a table with the same numbers for screen readers and without images.
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
CHART_WIDTH = 300  # the SVG viewBox width of a full bar


@dataclass
class Bar:
    key: str
    value: int
    width: int  # in viewBox units, out of CHART_WIDTH


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
    def answered_width(self) -> int:
        return round(CHART_WIDTH * self.answered / self.ideas) if self.ideas else 0


def _days(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0) / 86400


def figures(session: Session, call_id: int | None = None, waiting_days: int = WAITING_DAYS,
            now: datetime | None = None) -> DialogueFigures:
    now = now or utcnow()
    visible = [col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None)]
    if call_id is not None:
        visible.append(col(Idea.call_id) == call_id)
    result = DialogueFigures(waiting_days=waiting_days)
    result.ideas = int(session.exec(select(func.count()).select_from(Idea).where(*visible)).one())
    counts: dict[str, int] = {status: int(n) for status, n in session.execute(
        sa.select(col(Idea.answer_status), func.count()).where(*visible, col(Idea.answer_status).is_not(None))
        .group_by(col(Idea.answer_status))
    ).all()}
    result.answered = sum(counts.values())
    biggest = max(counts.values(), default=0)
    result.by_status = [Bar(status.value, counts.get(status.value, 0),
                            round(CHART_WIDTH * counts.get(status.value, 0) / biggest) if biggest else 0)
                        for status in AnswerStatus]
    result.waiting = int(session.exec(
        select(func.count()).select_from(Idea).where(
            *visible, col(Idea.answer_status).is_(None),
            func.coalesce(Idea.published_at, Idea.created_at) <= now - timedelta(days=waiting_days))
    ).one())
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
    # Comments answered by the city: ideas where citizens commented and staff replied.
    staff_ids = select(User.id).where(col(User.role).in_((Role.moderator, Role.admin)))
    comment_base = (select(Comment.idea_id).join(Idea, col(Idea.id) == col(Comment.idea_id))
                    .where(*visible, col(Comment.deleted_at).is_(None), col(Comment.hidden_at).is_(None)))
    citizen_ideas = comment_base.where(col(Comment.author_id).not_in(staff_ids)).distinct().subquery()
    staff_ideas = comment_base.where(col(Comment.author_id).in_(staff_ids)).distinct().subquery()
    result.commented_ideas = int(session.exec(select(func.count()).select_from(citizen_ideas)).one())
    result.city_replied = int(session.exec(
        select(func.count()).select_from(citizen_ideas)
        .where(citizen_ideas.c.idea_id.in_(select(staff_ideas.c.idea_id)))
    ).one())
    result.staff_comments = int(session.exec(
        select(func.count()).select_from(Comment).join(Idea, col(Idea.id) == col(Comment.idea_id))
        .where(*visible, col(Comment.author_id).in_(staff_ids), col(Comment.deleted_at).is_(None))
    ).one())
    return result


def chart_response(f: DialogueFigures) -> Response:
    """The figures as an SVG image (escaped by the template engine like any page)."""
    svg = env.get_template("moderation/dialogue_chart.svg").render(
        f=f, height=60 + 28 * len(f.by_status), full=CHART_WIDTH)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "max-age=300"})


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes from aggregates; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
