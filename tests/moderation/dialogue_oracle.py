"""The dialogue figures counted the slow way, from every idea, comment and audit entry: the code
app.moderation.dialogue.figures ran before migration 0041, kept here only as the tests' oracle
(tests/moderation/test_dialogue_tallies.py). One change: a comment whose author deleted their
account (author_id NULL) counts as neither a citizen's nor staff's, also when no staff exists
(`NULL NOT IN (empty set)` counted it as a citizen's there)."""

from datetime import datetime, timedelta
from statistics import median

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.audit import AuditAction, AuditEntry, TargetType
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import AnswerStatus, Idea, IdeaStatus
from app.moderation.dialogue import WAITING_DAYS, Bar, DialogueFigures, _aware, _days, bar_width


def recount(session: Session, call_id: int | None = None, waiting_days: int = WAITING_DAYS,
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
    citizen_ideas = comment_base.where(col(Comment.author_id).is_not(None),
                                       col(Comment.author_id).not_in(staff_ids)).distinct().subquery()
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

