"""The worker's part of news told to many people (app.notify.audiences): one page of BATCH
people per outbox message, each in a transaction of its own, the next page queued in that same
transaction, which marks the message done too. So a commit tells a whole page, queues the
rest and ends the message, or does none of it, and the outbox runs the message again.

What changed since the action is read again: the actor and the idea or call (deleted since:
nobody more is told); the comment told of, which hidden or deleted since is told to nobody more;
people who left the audience meanwhile (unfollowed, suspended) are no longer in its pages, and
an idea hidden meanwhile has its news told to nobody more who may not see it
(app.notify.audiences.Audience)."""

from typing import Any

from app.account.models import User
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.db import Database
from app.idea.models import Idea
from app.notify import audiences, service
from app.notify.audiences import Audience
from app.notify.news import News
from app.outbox.models import OutboxMessage, OutboxStatus
from app.settings import Settings


def run(settings: Settings, db: Database, message_id: int, payload: dict[str, Any]) -> None:
    """Tell the next page of the audience in `payload` (`audiences.continue_later`'s) and queue
    the page after it when there may be more."""
    audience, key = Audience(payload["audience"]), int(payload["key"])
    news, actor_id = News.from_payload(payload["news"])
    excluded = {int(i) for i in payload.get("excluded", [])}
    with db.transaction() as session:
        # Marked done in the transaction that tells the page, not after it as the outbox marks
        # other messages: a worker stopped between the two would tell the page again when the
        # message is taken up anew, and queue the rest twice. Locked first, so that a run taken
        # up by another worker at the end of this one's lease waits for it, then finds it done.
        own = session.get(OutboxMessage, message_id, with_for_update=True)
        if own is None or own.status != OutboxStatus.running:
            return
        own.status, own.done_at = OutboxStatus.done, utcnow()
        session.add(own)
        if not _still_told(session, audience, key, news):
            return
        people, last = audiences.page(session, audience, key, after=int(payload["after"]), limit=audiences.BATCH)
        if last is not None:
            audiences.continue_later(session, audience, key, after=last, excluded=sorted(excluded),
                                     news=payload["news"])
        actor = session.get(User, actor_id) if actor_id is not None else None
        service.notify_each(session, settings, recipients=[p for p in people if p.id not in excluded], news=news,
                            actor=actor)


def _still_told(session: Any, audience: Audience, key: int, news: News) -> bool:
    """Whether the news is still to be told: its idea or call still there, its comment still
    there and shown."""
    if session.get(Call if audience == Audience.participants else Idea, key) is None:
        return False
    if news.comment_id is not None:
        comment = session.get(Comment, news.comment_id)
        return comment is not None and comment.hidden_at is None and comment.deleted_at is None
    return True
