"""What a notification may say to its reader now: the list page, the data export and the
e-mail the worker is about to send all read a notification through `views`.

A notification was written when something happened; by the time it is read, the idea may be
hidden, the comment hidden or deleted, the actor's account deleted. So it is checked against what
the reader may see now (app.authz, as the pages do): an idea or comment the reader may no longer
see leaves only "no longer available" (no title, no name, no link), and the actor is named as
they are now ("Former member" once their account is deleted).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app import authz
from app.account.models import User
from app.authz import Action
from app.call.models import Call
from app.comment.models import Comment
from app.i18n import N_
from app.idea.models import Idea
from app.notify.models import Notification

FORMER_ACTOR = N_("Former member")  # the label comments by a deleted account carry too


@dataclass
class NotificationView:
    """A notification as its reader may see it now. When `available` is False, `subject`,
    `actor` and `link` are empty: what it was about is out of the reader's sight."""

    notification: Notification
    available: bool
    subject: str = ""
    actor: str = ""  # the actor's current name; empty for the system or when unavailable
    actor_former: bool = False  # the actor deleted their account: show FORMER_ACTOR, translated
    link: str = ""


def comment_visible(viewer: User | None, comment: Comment) -> bool:
    """Whether the reader may still read the comment, as its idea page shows it: a deleted
    comment is gone for all; a hidden one stays for its author and the moderators."""
    if comment.deleted_at is not None:
        return False
    return comment.hidden_at is None or authz.is_own(viewer, comment) or authz.is_moderator(viewer)


def views(session: Session, viewer: User, notifications: Sequence[Notification]) -> list[NotificationView]:
    """The notifications, in their order, as `viewer` may see them now. Four queries
    whatever their number (ideas, comments, calls, actors)."""
    ideas: dict[int, Idea] = _by_id(session, Idea, {n.idea_id for n in notifications})
    comments: dict[int, Comment] = _by_id(session, Comment, {n.comment_id for n in notifications})
    calls: dict[int, Call] = _by_id(session, Call, {n.call_id for n in notifications})
    actors: dict[int, User] = _by_id(session, User, {n.actor_id for n in notifications})
    result = []
    for n in notifications:
        idea = ideas.get(n.idea_id) if n.idea_id is not None else None
        comment = comments.get(n.comment_id) if n.comment_id is not None else None
        call = calls.get(n.call_id) if n.call_id is not None else None
        available = (
            (n.idea_id is None or (idea is not None and authz.can(viewer, Action.idea_view, idea)))
            and (comment is None or comment_visible(viewer, comment))
            and (n.call_id is None or (call is not None and authz.can(viewer, Action.call_view, call)))
        )
        if not available:
            result.append(NotificationView(n, available=False))
            continue
        actor = actors.get(n.actor_id) if n.actor_id is not None else None
        former = n.actor_id is not None and (actor is None or actor.deleted_at is not None)
        name = "" if former else actor.display_name if actor is not None else n.actor_name
        subject = idea.title if idea is not None else call.title if call is not None else n.subject
        result.append(NotificationView(n, available=True, subject=subject, actor=name, actor_former=former,
                                       link=n.link))
    return result


def _by_id(session: Session, model: Any, ids: set[int | None]) -> dict[int, Any]:
    """Rows of `model` (a table with an integer `id`) by id, in one query."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()
    return {row.id: row for row in rows if row.id is not None}
