"""Announcements delivered to every configured channel, each exactly once.

Publishing writes, in the moderator's transaction, one `Delivery` row per enabled channel and
one outbox message per delivery (dedupe key `deliver:<delivery id>:<generation>`): a rolled-back
transaction leaves neither. The worker's handler `deliver` then, per delivery:

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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app import links
from app.account.models import User
from app.announce.channels import registry
from app.announce.channels.base import (
    AuthFailed,
    Channel,
    DeliveryError,
    Image,
    OutgoingPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from app.announce.channels.compose import post_text
from app.announce.models import (
    Announcement,
    AnnouncementStatus,
    ChannelAccount,
    ChannelState,
    Delivery,
    DeliveryStatus,
    NetworkReply,
    ReplyStatus,
)
from app.announce.queries import public_subject, text_for
from app.announce.sealing import SealBroken, seal, unseal
from app.audit import AuditAction, TargetType, record
from app.call.models import Call
from app.clock import utcnow
from app.db import Database
from app.errors import InvalidTransition
from app.idea.models import Idea
from app.media import service as media_service
from app.media.models import MediaFile
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage
from app.settings import LANGUAGES, Settings

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
IMAGE_VARIANT = "display"  # 1600 px at most: within every network's limits
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
    _cancel(session, delivery, reason)
    assert delivery.id is not None
    if actor is not None:
        record(session, actor=actor, action=AuditAction.delivery_cancel, target_type=TargetType.delivery,
               target_id=delivery.id)


def _cancel(session: Session, delivery: Delivery, reason: str) -> None:
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
            _cancel(session, delivery, "the idea it tells of is no longer public")
        elif delivery.status == DeliveryStatus.sent:
            outbox.enqueue(session, DELETE_KIND, {"delivery_id": delivery.id}, dedupe_key=f"delete:{delivery.id}")


# -- the worker -----------------------------------------------------------------------------


@dataclass
class _Job:
    delivery_id: int
    channel_id: int
    attempt: int
    kind: registry.Kind
    config: dict[str, Any]
    secrets: dict[str, str]
    post: OutgoingPost
    key: str
    idempotent_retry: bool  # an earlier attempt may have reached the network
    queued_at: datetime  # when the delivery was first queued


def _image(settings: Settings, session: Session, announcement: Announcement) -> Image | None:
    if announcement.image_id is None:
        return None
    media = session.get(MediaFile, announcement.image_id)
    if media is None:
        return None
    try:
        path = media_service.variant_path(settings, media, IMAGE_VARIANT)
        data = path.read_bytes()
    except Exception:  # noqa: BLE001 - a missing file posts without the image, not never
        log.warning("announcement %s: image %s unreadable, posted without it", announcement.id, media.id)
        return None
    mime = "image/png" if path.suffix == ".png" else "image/webp" if path.suffix == ".webp" else "image/jpeg"
    return Image(data=data, mime=mime, alt=announcement.image_alt)


def outgoing(session: Session, settings: Settings, announcement: Announcement, language: str) -> OutgoingPost:
    """What announcement `announcement` posts on a channel that speaks `language`: its text
    in that language (else French, else any), its link, its image, every language's text and
    the data webhooks carry."""
    call = session.get(Call, announcement.call_id) if announcement.call_id else None
    text = text_for(announcement, language)
    texts = {lang: post_text(t, announcement.link) for lang in LANGUAGES if (t := announcement.texts.get(lang))}
    assert announcement.id is not None
    return OutgoingPost(
        text=post_text(text, announcement.link), language=language, link=announcement.link,
        title=call.title if call else text.split("\n", 1)[0][:100],
        image=_image(settings, session, announcement), texts=texts,
        meta={"announcement_id": announcement.id, "event": announcement.event,
              "call_slug": call.slug if call else None,
              "published_at": announcement.published_at.isoformat() if announcement.published_at else None,
              "url": settings.absolute_url(links.path("announce:detail", announcement_id=announcement.id))})


def _prepare(settings: Settings, db: Database, delivery_id: int) -> _Job:
    """Check that delivery `delivery_id` should go out now and count its attempt, in one
    transaction. Raises outbox.Cancelled or outbox.RetryAt, or returns what to post. What it
    decides on the way (a delivery cancelled, parked, a channel marked) is committed before
    the decision is raised: raised inside the transaction, it would be rolled back."""
    decision: outbox.Cancelled | outbox.RetryAt
    with db.transaction() as session:
        try:
            return _check(settings, session, delivery_id)
        except (outbox.Cancelled, outbox.RetryAt) as exc:
            decision = exc
    raise decision


def _check(settings: Settings, session: Session, delivery_id: int) -> _Job:
    """`_prepare`'s work in its transaction `session`."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise outbox.Cancelled("delivery gone")
    if delivery.status != DeliveryStatus.pending:
        raise outbox.Cancelled(f"delivery is {delivery.status}")
    announcement = session.get(Announcement, delivery.announcement_id)
    channel = session.get(ChannelAccount, delivery.channel_id)
    if announcement is None or channel is None:
        raise outbox.Cancelled("announcement or channel gone")
    reason = None
    if announcement.status != AnnouncementStatus.published:
        reason = "the announcement is no longer published"
    elif not public_subject(session, announcement):
        reason = "what the announcement tells of is no longer public"
    elif not channel.enabled:
        reason = "the channel was switched off"
    elif channel.kind not in registry.KINDS:
        reason = f"unknown kind of channel {channel.kind!r}"
    if reason:
        _cancel(session, delivery, reason)
        raise outbox.Cancelled(reason)
    if channel.state == ChannelState.needs_reauth:
        _park(delivery)
        session.add(delivery)
        raise outbox.Cancelled("the channel needs re-authorisation")
    now = utcnow()
    if channel.paused_until is not None and channel.paused_until > now:
        delivery.next_attempt_at = channel.paused_until
        session.add(delivery)
        raise outbox.RetryAt(channel.paused_until, "waiting for the network's rate-limit reset")
    try:
        secrets = unseal(settings, channel.secrets_sealed)
    except SealBroken as exc:
        needs_reauth(session, channel, str(exc))
        _park(delivery)
        session.add(delivery)
        raise outbox.Cancelled(str(exc)) from exc
    # A staff retry or new credentials start the count again (generation > 1): an attempt
    # of an earlier generation may have reached the network all the same.
    earlier = delivery.attempts > 0 or delivery.generation > 1
    delivery.attempts += 1
    delivery.updated_at = now
    session.add(delivery)
    language = str(channel.config.get("language") or settings.default_language)
    if delivery.target.startswith(REPLY_TARGET):
        post = _answer_post(session, delivery, language)
    else:
        post = outgoing(session, settings, announcement, language)
    post = replace(post, meta={**post.meta, "queued_at": delivery.created_at.isoformat()})
    return _Job(delivery_id=delivery_id, channel_id=delivery.channel_id, attempt=delivery.attempts,
                kind=registry.kind_of(channel.kind),
                config=dict(channel.config), secrets=secrets, post=post, key=delivery.key,
                idempotent_retry=earlier, queued_at=delivery.created_at)


def _answer_post(session: Session, delivery: Delivery, language: str) -> OutgoingPost:
    """A moderator's answer to a collected reply, posted under it. Raises outbox.Cancelled
    (the delivery cancelled) when the reply was hidden or is gone."""
    reply = session.get(NetworkReply, int(delivery.target.removeprefix(REPLY_TARGET) or 0))
    if reply is None or reply.status == ReplyStatus.hidden:
        _cancel(session, delivery, "the reply it answers was hidden")
        raise outbox.Cancelled("the reply it answers was hidden")
    return OutgoingPost(text=reply.answer_text, language=language,
                        in_reply_to=RemoteRef(id=reply.remote_id, url=reply.url))


def _park(delivery: Delivery) -> None:
    delivery.status = DeliveryStatus.waiting_auth
    delivery.next_attempt_at = None
    delivery.updated_at = utcnow()


def needs_reauth(session: Session, channel: ChannelAccount, note: str) -> None:
    """Mark `channel` as waiting for new credentials (`note`, English, no secret, for the
    administrators' notice): nothing is sent to it or read from it until they are saved."""
    channel.state = ChannelState.needs_reauth
    channel.state_note = note[:300]
    channel.updated_at = utcnow()
    session.add(channel)
    log.warning("channel %s (%s) needs re-authorisation: %s", channel.id, channel.kind, note)


def _post(db: Database, channel: Channel, job: _Job) -> RemoteRef:
    """Post, after looking for an earlier attempt's post when the network may not know it by
    its key: one without idempotency keys, or one whose keys expired since (Mastodon keeps
    them an hour: `idempotency_window`). A post found that another delivery recorded as its
    own (an earlier announcement of the same text) is not this one's."""
    window: timedelta | None = getattr(channel, "idempotency_window", None)
    expired = window is not None and utcnow() - job.queued_at > window
    if job.idempotent_retry and (not channel.idempotent or expired):
        found = channel.find(job.post, key=job.key)
        if found is not None and _recorded_elsewhere(db, job, found.id):
            log.info("delivery %s: the post found is another delivery's: posted", job.delivery_id)
            found = None
        if found is not None:
            log.info("delivery %s was already on the network: recorded, not posted again", job.delivery_id)
            return found
    return channel.post(job.post, key=job.key)


def _recorded_elsewhere(db: Database, job: _Job, remote_id: str) -> bool:
    with db.session() as session:
        return session.exec(select(Delivery.id).where(
            Delivery.channel_id == job.channel_id, Delivery.remote_id == remote_id[:300],
            Delivery.id != job.delivery_id)).first() is not None


def deliver(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `announce.deliver` messages (see the module's docstring).
    Raises outbox.Cancelled (nothing more to do) or outbox.RetryAt (try again then)."""
    job = _prepare(settings, db, int(payload["delivery_id"]))
    channel: Channel | None = None
    try:
        channel = registry.build(job.kind, job.config, job.secrets, settings=settings, db=db)
        ref = _post(db, channel, job)
    except DeliveryError as exc:
        keep_renewed_secrets(settings, db, job.channel_id, channel)
        _failed(db, job, exc)
        return
    except Exception as exc:  # noqa: BLE001 - a client's own bug or an unforeseen answer: retried
        keep_renewed_secrets(settings, db, job.channel_id, channel)
        _failed(db, job, Transient(f"{type(exc).__name__}: {exc}"))
        return
    keep_renewed_secrets(settings, db, job.channel_id, channel)
    collects = channel.collects_replies
    with db.transaction() as session:
        delivery = session.get(Delivery, job.delivery_id, with_for_update=True)
        assert delivery is not None
        # Cancelled while the network took it (by staff, or its idea hidden by another worker):
        # it is out there all the same, recorded as sent, and deleted where the network allows.
        withdrawn = delivery.status == DeliveryStatus.cancelled
        delivery.status = DeliveryStatus.sent
        delivery.remote_id = ref.id[:300]
        delivery.remote_url = ref.url[:500]
        delivery.remote_extra = dict(ref.extra)
        delivery.sent_at = delivery.updated_at = utcnow()
        delivery.next_attempt_at = None
        delivery.last_error = ""
        session.add(delivery)
        announcement = session.get(Announcement, delivery.announcement_id)
        if withdrawn or announcement is None or not public_subject(session, announcement):
            outbox.enqueue(session, DELETE_KIND, {"delivery_id": delivery.id}, dedupe_key=f"delete:{delivery.id}")
        elif collects and delivery.target == "post":
            schedule_collection(session, delivery, utcnow() + COLLECT_EVERY)
    log.info("delivery %s sent: %s", job.delivery_id, ref.url or ref.id)


def keep_renewed_secrets(settings: Settings, db: Database, channel_id: int, network: Channel | None) -> None:
    """Store, sealed, the credentials a channel renewed while it worked (X refreshes its
    two-hour access token and gets a new refresh token, the old one spent): without this the
    next attempt would present spent credentials. Nothing when it renewed none."""
    renewed: dict[str, str] | None = getattr(network, "renewed_secrets", None)
    if not renewed:
        return
    with db.transaction() as session:
        account = session.get(ChannelAccount, channel_id, with_for_update=True)
        if account is None:
            return
        try:
            current = unseal(settings, account.secrets_sealed)
        except SealBroken:
            current = {}
        account.secrets_sealed = seal(settings, {**current, **renewed})
        account.updated_at = utcnow()
        session.add(account)
    log.info("channel %s renewed its credentials", channel_id)


def _failed(db: Database, job: _Job, exc: DeliveryError) -> None:
    """Record a failed attempt; raises outbox.RetryAt when it is to be tried again."""
    message = f"{type(exc).__name__}: {exc}"[:500]
    retry_at: datetime | None = None
    with db.transaction() as session:
        delivery = session.get(Delivery, job.delivery_id, with_for_update=True)
        assert delivery is not None
        channel = session.get(ChannelAccount, delivery.channel_id, with_for_update=True)
        assert channel is not None
        delivery.last_error = message
        delivery.updated_at = utcnow()
        if isinstance(exc, RateLimited):
            channel.paused_until = max(exc.reset_at, channel.paused_until or exc.reset_at)
            session.add(channel)
            delivery.attempts -= 1  # the network asked to wait: not a failure of this delivery
            retry_at = channel.paused_until
        elif isinstance(exc, AuthFailed):
            needs_reauth(session, channel, message)
            _park(delivery)
        elif isinstance(exc, Rejected) or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.dead
            delivery.next_attempt_at = None
        else:
            retry_at = utcnow() + backoff(delivery.attempts)
        delivery.next_attempt_at = retry_at
        session.add(delivery)
    log.warning("delivery %s attempt %s failed: %s", job.delivery_id, job.attempt, message)
    if retry_at is not None:
        raise outbox.RetryAt(retry_at, message)


def delete_sent(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `announce.delete` messages: remove a sent post from its network.
    A network that cannot delete (an e-mail) leaves it, noted; failures are retried."""
    with db.transaction() as session:
        delivery = session.get(Delivery, int(payload["delivery_id"]))
        if delivery is None or delivery.status != DeliveryStatus.sent:
            raise outbox.Cancelled("nothing sent to delete")
        channel = session.get(ChannelAccount, delivery.channel_id)
        if channel is None or channel.kind not in registry.KINDS:
            raise outbox.Cancelled("channel gone")
        try:
            secrets = unseal(settings, channel.secrets_sealed)
        except SealBroken as exc:
            raise outbox.Cancelled(str(exc)) from exc
        kind, config, channel_id = registry.kind_of(channel.kind), dict(channel.config), channel.id or 0
        ref = RemoteRef(id=delivery.remote_id, url=delivery.remote_url, extra=dict(delivery.remote_extra))
    try:
        network = registry.build(kind, config, secrets, settings=settings, db=db)
        try:
            network.delete(ref)
        finally:
            keep_renewed_secrets(settings, db, channel_id, network)
    except Rejected as exc:
        _note(db, delivery.id, f"not deleted: {exc}")
        raise outbox.Cancelled(f"the network cannot delete it: {exc}") from exc
    except RateLimited as exc:
        raise outbox.RetryAt(exc.reset_at, str(exc)) from exc
    with db.transaction() as session:
        row = session.get(Delivery, delivery.id)
        assert row is not None
        row.status = DeliveryStatus.deleted
        row.updated_at = utcnow()
        session.add(row)


def _note(db: Database, delivery_id: int | None, note: str) -> None:
    with db.transaction() as session:
        row = session.get(Delivery, delivery_id)
        if row is not None:
            row.last_error = note[:500]
            session.add(row)
