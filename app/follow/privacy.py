"""What the following domain keeps about a person: the ideas they follow. At deletion the
follows go, and the ideas' follower counters with them."""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.follow.models import Follow
from app.idea.models import Idea
from app.idea.privacy import idea_ref
from app.personal_data import Holding, when
from app.settings import Settings


def export_follows(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every idea `user` follows, and since when."""
    follows = session.exec(select(Follow).where(Follow.user_id == user.id).order_by(col(Follow.id))).all()
    return [{"idea": idea_ref(session, user=user, base_url=base_url, idea_id=f.idea_id),
             "created_at": when(f.created_at)} for f in follows]


def erase_follows(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's follows, each idea's counter with its row (one follow per idea: one
    UPDATE). Returns no figure."""
    followed = [row[0] for row in session.execute(
        delete(Follow).where(col(Follow.user_id) == user_id).returning(col(Follow.idea_id))).all()]
    if followed:
        session.execute(update(Idea).where(col(Idea.id).in_(followed))
                        .values(follower_count=col(Idea.follower_count) - 1))
    return {}


def ideas_followed(session: Session, *, user_id: int) -> list[int]:
    """The ideas `erase_follows` writes (their follower counts)."""
    return list(session.exec(select(Follow.idea_id).where(Follow.user_id == user_id)).all())


FOLLOWS = Holding("follows", export=export_follows, erase=erase_follows, ideas=ideas_followed)
