"""What the comments domain keeps about a person: the comments they wrote. At deletion they
stay in the discussion, without their author's name."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.account.models import User
from app.comment.models import Comment
from app.idea.privacy import idea_ref
from app.personal_data import Holding, when
from app.settings import Settings


def export_comments(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every comment `user` wrote, deleted and hidden ones included, with the idea it is on."""
    comments = session.exec(select(Comment).where(Comment.author_id == user.id).order_by(col(Comment.id))).all()
    return [{
        "id": c.id,
        "idea": idea_ref(session, user=user, base_url=base_url, idea_id=c.idea_id),
        "body_markdown": c.body_md,
        "language": c.language,
        "created_at": when(c.created_at),
        "edited_at": when(c.edited_at),
        "deleted_at": when(c.deleted_at),
        "hidden_by_moderation": c.hidden_at is not None,
    } for c in comments]


def erase_comments(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """The person's comments lose their author. Returns no figure."""
    session.execute(update(Comment).where(col(Comment.author_id) == user_id).values(author_id=None))
    return {}


def ideas_commented(session: Session, *, user_id: int) -> list[int]:
    """The ideas `erase_comments` writes (their comment tallies, by trigger): those the person
    commented on."""
    return list(session.exec(select(Comment.idea_id).where(Comment.author_id == user_id).distinct()).all())


COMMENTS = Holding("comments", export=export_comments, erase=erase_comments, ideas=ideas_commented)
