"""Announcements delivered to every configured channel, each exactly once.

Publishing writes, in the moderator's transaction, one `Delivery` row per enabled channel and
one outbox message per delivery (dedupe key `deliver:<delivery id>:<generation>`): a rolled-back
transaction leaves neither. The worker's handler `deliver` (app.announce.sending) then, per
delivery:

1. checks again that it should still go out: the announcement still published, what it tells
   of still public (an idea hidden since cancels it), the delivery not cancelled by staff, the
   channel enabled, not waiting for new credentials, not paused by a rate limit;
2. counts the attempt in its own transaction *before* posting, so that a worker killed after
   the network accepted the post leaves a trace: the next attempt of a channel without an
   idempotency key first asks the network whether the post is there (`Channel.find`); a
   channel with one (Mastodon) is given the same key again and answers with the same post;
3. posts, then records the outcome: sent (with the post's id and address); a timeout or 5xx
   retried with exponential backoff and jitter, dead after MAX_ATTEMPTS; a rate limit pausing
   the whole channel until its reset, not counted as an attempt, while other channels go on;
   refused credentials marking the channel "needs re-authorisation" and parking its deliveries
   until an administrator saves new ones (no retry storm); a post refused for good, dead.

Two workers never carry out one delivery: the outbox claims a message for one worker (FOR
UPDATE SKIP LOCKED on PostgreSQL; on SQLite one worker runs at a time, see
app.outbox.worker.sqlite_worker_lock). Staff retry a dead or parked delivery, or cancel a
waiting one (`retry`, `cancel`). When an idea an announcement tells of stops being public,
`follow_idea` cancels its waiting deliveries and queues the deletion of those already sent
(kind `announce.delete`) on networks that allow it.
"""

import logging
import random
import secrets as token_source
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.account.models import User
from app.announce.models import (
    Announcement,
    ChannelAccount,
    ChannelState,
    Delivery,
    DeliveryStatus,
)
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import InvalidTransition
from app.idea.models import Idea
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

DELIVER_KIND = "announce.deliver"
DELETE_KIND = "announce.delete"
COLLECT_KIND = "announce.collect_replies"
COLLECT_EVERY = timedelta(minutes=10)  # how often the replies of a sent post are read
COLLECT_FOR = timedelta(days=14)  # replies are read this long after a post was sent
REPLY_TARGET = "reply:"  # a delivery's target for a moderator's answer to a collected reply
MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
NO_CHANNEL = "no channel configured"
RETRYABLE = (DeliveryStatus.dead, DeliveryStatus.waiting_auth, DeliveryStatus.cancelled)
CANCELLABLE = (DeliveryStatus.pending, DeliveryStatus.waiting_auth)


def backoff(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts` (1, 2, ...): 30 s doubled each time, at
    most 6 hours, with "equal jitter" (half fixed, half random), so that deliveries failing
    together do not come back together and each wait is longer than the one before it."""
    full = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    half = full / 2
    return half + half * random.random()


def _message_key(delivery: Delivery) -> str:
    return f"deliver:{delivery.id}:{delivery.generation}"


def enqueue_row(session: Session, delivery: Delivery, run_at: datetime | None = None) -> None:
    """Queue the outbox message that carries out `delivery` (flushed, with an id) in its
    current generation; a second call for the same generation queues nothing."""
    outbox.enqueue(session, DELIVER_KIND, {"delivery_id": delivery.id}, dedupe_key=_message_key(delivery),
                   run_at=run_at)


def schedule_collection(session: Session, delivery: Delivery, at: datetime) -> None:
    """Queue the reading of `delivery`'s replies at `at` (see app.announce.replies; one
    message per ten-minute slot)."""
    slot = int(at.timestamp()) // int(COLLECT_EVERY.total_seconds())
    outbox.enqueue(session, COLLECT_KIND, {"delivery_id": delivery.id},
                   dedupe_key=f"replies:{delivery.id}:{slot}", run_at=at)


def queue(session: Session, announcement: Announcement) -> int:
    """Queue `announcement` (just published) for every enabled channel, in the caller's
    transaction. Returns how many deliveries were queued; with none, the announcement notes
    "no channel configured". A channel that already has this announcement is skipped."""
    assert announcement.id is not None
    channels = session.exec(select(ChannelAccount).where(col(ChannelAccount.enabled))
                            .order_by(col(ChannelAccount.id))).all()
    queued = 0
    for channel in channels:
        exists = session.exec(select(Delivery.id).where(
            Delivery.announcement_id == announcement.id, Delivery.channel_id == channel.id,
            Delivery.target == "post")).first()
        if exists is not None:
            continue
        delivery = Delivery(announcement_id=announcement.id, channel_id=channel.id,  # type: ignore[arg-type]
                            key=token_source.token_hex(16), next_attempt_at=utcnow())
        session.add(delivery)
        session.flush()
        enqueue_row(session, delivery)
        queued += 1
    announcement.delivery_note = "" if channels else NO_CHANNEL
    session.add(announcement)
    return queued


# -- staff actions ------------------------------------------------------------------------


def retry(session: Session, *, actor: User, delivery: Delivery) -> None:
    """Try a dead, parked or cancelled delivery again from its first attempt, with the same
    key (a post that did reach the network is found, not repeated). Raises InvalidTransition
    for a delivery waiting or sent."""
    if delivery.status not in RETRYABLE:
        raise InvalidTransition()
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.generation += 1
    delivery.next_attempt_at = utcnow()
    delivery.updated_at = utcnow()
    session.add(delivery)
    session.flush()
    enqueue_row(session, delivery)
    assert delivery.id is not None
    record(session, actor=actor, action=AuditAction.delivery_retry, target_type=TargetType.delivery,
           target_id=delivery.id)


def cancel(session: Session, *, actor: User | None, delivery: Delivery, reason: str = "cancelled by staff") -> None:
    """Stop a waiting delivery: it will not be posted (a worker holding it finds it cancelled
    before posting; one whose post the network was already taking records it as sent and
    queues its deletion). Raises InvalidTransition once sent, dead or cancelled."""
    if delivery.status not in CANCELLABLE:
        raise InvalidTransition()
    withdraw(session, delivery, reason)
    assert delivery.id is not None
    if actor is not None:
        record(session, actor=actor, action=AuditAction.delivery_cancel, target_type=TargetType.delivery,
               target_id=delivery.id)


def withdraw(session: Session, delivery: Delivery, reason: str) -> None:
    """Cancel `delivery` for `reason` (English, for staff), whatever its state, with its
    waiting outbox message: what the system decides (an idea hidden, a reply hidden), where
    `cancel` is a person's checked action."""
    delivery.status = DeliveryStatus.cancelled
    delivery.last_error = reason[:500]
    delivery.next_attempt_at = None
    delivery.updated_at = utcnow()
    session.add(delivery)
    message = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == _message_key(delivery))).first()
    if message is not None:
        outbox.cancel(session, message, reason)


def resume_channel(session: Session, channel: ChannelAccount) -> int:
    """After an administrator saved new credentials: the channel is usable again and every
    delivery parked for it is queued again. Returns how many."""
    channel.state = ChannelState.ok
    channel.state_note = ""
    channel.paused_until = None
    session.add(channel)
    parked = session.exec(select(Delivery).where(Delivery.channel_id == channel.id,
                                                 Delivery.status == DeliveryStatus.waiting_auth)).all()
    for delivery in parked:
        delivery.status = DeliveryStatus.pending
        delivery.generation += 1
        delivery.next_attempt_at = utcnow()
        session.add(delivery)
        session.flush()
        enqueue_row(session, delivery)
    resume_collection(session, channel)
    return len(parked)


def resume_collection(session: Session, channel: ChannelAccount) -> int:
    """Queue again the reading of the replies of `channel`'s posts sent less than COLLECT_FOR
    ago (the readings stop while a channel is off or waits for credentials). Returns how many
    posts; a reading already queued for the same ten minutes is not queued twice."""
    since = utcnow() - COLLECT_FOR
    posts = session.exec(select(Delivery).where(
        Delivery.channel_id == channel.id, Delivery.status == DeliveryStatus.sent, Delivery.target == "post",
        col(Delivery.sent_at) >= since)).all()
    for post in posts:
        schedule_collection(session, post, utcnow())
    return len(posts)


def follow_idea(session: Session, idea_id: int) -> None:
    """After a change of idea `idea_id`: when it is no longer public, the deliveries of
    announcements about it that are still waiting are cancelled, and those already sent get a
    deletion job. Nothing when it is public. Idempotent (dedupe keys)."""
    idea = session.get(Idea, idea_id)
    if idea is not None and idea.is_public:
        return
    announcements = session.exec(select(Announcement.id).where(Announcement.idea_id == idea_id)).all()
    if not announcements:
        return
    deliveries = session.exec(select(Delivery).where(col(Delivery.announcement_id).in_(announcements))).all()
    for delivery in deliveries:
        if delivery.status in CANCELLABLE:
            withdraw(session, delivery, "the idea it tells of is no longer public")
        elif delivery.status == DeliveryStatus.sent:
            outbox.enqueue(session, DELETE_KIND, {"delivery_id": delivery.id}, dedupe_key=f"delete:{delivery.id}")
