"""The newsletter channel: an announcement becomes one e-mail to each confirmed subscriber
(app.newsletter), in the subscriber's language, through the outbox (app.mail).

Posting is idempotent: each e-mail's outbox dedupe key is the delivery's key and the
subscription (`newsletter:{key}:{subscription id}`), so a retry after a crash queues only what
the first attempt did not, and sends nothing twice. All of one attempt's e-mails are queued in
one transaction of the channel's own. An e-mail cannot be recalled: `delete` is refused.
"""

from typing import Any, ClassVar

from sqlalchemy.exc import SQLAlchemyError

from app.announce.channels.base import OutgoingPost, Rejected, RemoteRef, Reply, Transient
from app.db import Database
from app.newsletter import service
from app.settings import Settings


class NewsletterChannel:
    """The city's newsletter (no configuration, no secret)."""

    kind: ClassVar[str] = "newsletter"
    idempotent: ClassVar[bool] = True
    collects_replies: ClassVar[bool] = False

    def __init__(self, *, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def check(self) -> str:
        """How many subscribers would receive a post now, e.g. "3 confirmed subscribers"."""
        try:
            with self.db.session() as session:
                count = service.confirmed_count(session)
        except SQLAlchemyError as exc:
            raise Transient(f"database error: {type(exc).__name__}") from exc
        return f"{count} confirmed subscriber{'' if count == 1 else 's'}"

    def post(self, post: OutgoingPost, *, key: str) -> RemoteRef:
        """Queue, in one transaction, one e-mail per confirmed subscriber: `post.texts[language]`
        for the subscriber's language, else `post.text`. Returns RemoteRef(id=key). Raises
        Transient when the database fails (nothing is queued then; a retry is safe)."""
        try:
            with self.db.transaction() as session:
                for subscription in service.confirmed(session):
                    text = post.texts.get(subscription.language) or post.text
                    service.queue_announcement(session, self.settings, subscription, key=key, text=text,
                                               link=post.link)
        except SQLAlchemyError as exc:
            raise Transient(f"database error: {type(exc).__name__}") from exc
        return RemoteRef(id=key)

    def find(self, post: OutgoingPost, *, key: str) -> RemoteRef | None:
        """None: posting again with the same key is safe (see the module docstring)."""
        return None

    def delete(self, ref: RemoteRef) -> None:
        """Always raises Rejected: an e-mail cannot be recalled."""
        raise Rejected("an e-mail cannot be recalled once sent")

    def replies(self, ref: RemoteRef, *, since: str | None) -> list[Reply]:
        """None: replies to the newsletter are not collected."""
        return []


def build(config: dict[str, Any], secrets: dict[str, str], *, settings: Settings, db: Database) -> NewsletterChannel:
    """The newsletter channel; it has no configuration (`config` and `secrets` are ignored)."""
    return NewsletterChannel(settings=settings, db=db)
