"""Following ideas: authors, voters and commenters follow automatically; anyone may choose."""

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from app.follow.models import Follow
from app.idea.models import Idea
from app.locks import lock_user


def is_following(session: Session, *, idea_id: int, user_id: int) -> bool:
    """Whether user `user_id` follows idea `idea_id`."""
    return session.exec(
        select(Follow.id).where(Follow.idea_id == idea_id, Follow.user_id == user_id)
    ).first() is not None


def followed_idea_ids(session: Session, *, user_id: int, idea_ids: list[int]) -> set[int]:
    """Of `idea_ids`, those user `user_id` follows (one query for a whole list of cards)."""
    if not idea_ids:
        return set()
    return set(session.exec(
        select(Follow.idea_id).where(Follow.user_id == user_id, col(Follow.idea_id).in_(idea_ids))
    ).all())


def follow(session: Session, *, idea_id: int, user_id: int) -> bool:
    """Follow an idea; True if this is new. The counter moves in SQL, in this transaction."""
    lock_user(session, user_id)  # one person's follows are serialised, so the check holds
    if is_following(session, idea_id=idea_id, user_id=user_id):
        return False
    session.execute(insert(Follow).values(idea_id=idea_id, user_id=user_id))
    session.execute(
        update(Idea).where(col(Idea.id) == idea_id).values(follower_count=col(Idea.follower_count) + 1)
    )
    return True


def unfollow(session: Session, *, idea_id: int, user_id: int) -> bool:
    """Stop following; True if something was removed."""
    result = session.execute(
        delete(Follow).where(col(Follow.idea_id) == idea_id, col(Follow.user_id) == user_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(Idea).where(col(Idea.id) == idea_id).values(follower_count=col(Idea.follower_count) - 1)
    )
    return True


def follower_count(session: Session, idea_id: int) -> int:
    """Counted from the rows: for tests and repairs, never for pages (they read the column)."""
    return int(session.exec(select(func.count()).select_from(Follow).where(Follow.idea_id == idea_id)).one())
