"""Hiding and showing comments again, with their idea's `comment_count`.

`Idea.comment_count` counts what the public can read: comments neither deleted nor hidden. The
idea page's heading, its card, the API and the CSV all show that one column, while the page
shows a hidden comment as a placeholder. So every way a comment leaves public view (a moderator,
reports past the threshold, a spam hold, an author's suspension) and comes back (a moderator's
restore) goes through here, and the counter moves with the rows in the same transaction.

Kept apart from app.comment.service because the posting policy, reports and moderation hide
comments, and the comment service itself calls the posting policy.
"""

from collections import Counter
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea


def hide(session: Session, comment_ids: list[int], *, at: datetime | None = None) -> list[int]:
    """Hide those of the comments not hidden yet; returns their ids (a comment already hidden
    is left alone, so a repeated decision changes nothing). The ideas' counters lose the
    newly hidden comments that were not deleted."""
    if not comment_ids:
        return []
    rows = session.execute(
        update(Comment).where(col(Comment.id).in_(comment_ids), col(Comment.hidden_at).is_(None))
        .values(hidden_at=at or utcnow())
        .returning(col(Comment.id), col(Comment.idea_id), col(Comment.deleted_at))
    ).all()
    _move_counters(session, Counter(idea_id for _id, idea_id, deleted_at in rows if deleted_at is None), -1)
    return [comment_id for comment_id, _idea, _deleted in rows]


def show(session: Session, comment_id: int) -> bool:
    """Show a hidden comment again; False if it was not hidden. Its idea counts it again,
    unless its author deleted it meanwhile."""
    rows = session.execute(
        update(Comment).where(col(Comment.id) == comment_id, col(Comment.hidden_at).is_not(None))
        .values(hidden_at=None)
        .returning(col(Comment.idea_id), col(Comment.deleted_at))
    ).all()
    _move_counters(session, Counter(idea_id for idea_id, deleted_at in rows if deleted_at is None), +1)
    return bool(rows)


def _move_counters(session: Session, per_idea: Counter[int], sign: int) -> None:
    for idea_id, n in per_idea.items():
        session.execute(update(Idea).where(col(Idea.id) == idea_id)
                        .values(comment_count=col(Idea.comment_count) + sign * n))
