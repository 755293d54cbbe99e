"""Row locks that serialise the writers who could break a rule together (votes, follows,
comments and reports take them; services call them before counting).

On PostgreSQL, READ COMMITTED lets two transactions count the same rows and both insert:
taking `SELECT ... FOR UPDATE` on a row first makes the second wait, and its later statements
see what the first committed. On SQLite every write session already starts with BEGIN
IMMEDIATE (app.db), which lets one writer in at a time, so nothing more is needed there.

The locks are FOR NO KEY UPDATE: they serialise our writers without blocking the KEY SHARE
locks that inserting a row with a foreign key takes (a notification for a voter, a vote for a
reported idea), which would otherwise deadlock with them. Whoever takes both locks takes the
person's first, then the idea's.
"""

from sqlmodel import Session, col, select

from app.account.models import User
from app.comment.models import Comment
from app.idea.models import Idea


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_user(session: Session, user_id: int) -> None:
    """Serialise one person's votes, follows and reports (limits are counted per person)."""
    if _is_postgres(session):
        session.exec(select(col(User.id)).where(col(User.id) == user_id).with_for_update(key_share=True)).first()


def lock_idea(session: Session, idea_id: int) -> None:
    """Serialise the reports on one idea (distinct reporters are counted per item)."""
    if _is_postgres(session):
        session.exec(select(col(Idea.id)).where(col(Idea.id) == idea_id).with_for_update(key_share=True)).first()


def lock_comment(session: Session, comment_id: int) -> None:
    """Serialise the reports on one comment (distinct reporters are counted per item)."""
    if _is_postgres(session):
        query = select(col(Comment.id)).where(col(Comment.id) == comment_id)
        session.exec(query.with_for_update(key_share=True)).first()
