"""The worker's side of deliveries (app.announce.delivery holds the queue and staff's side):
checking that a delivery should still go out and counting its attempt before posting,
building what it posts, posting it (looking first for an earlier attempt's post where the
network may not know it by its key), recording the outcome, and deleting a sent post whose
subject stopped being public. See app.announce.delivery's docstring for the whole story."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app import links
from app.announce import delivery as queue  # MAX_ATTEMPTS read through the module: its current value
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
from app.announce.delivery import (
    COLLECT_EVERY,
    DELETE_KIND,
    REPLY_TARGET,
    backoff,
    schedule_collection,
    withdraw,
)
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
from app.assistant.models import AssistantQuestion
from app.call.models import Call
from app.clock import utcnow
from app.db import Database
from app.media import service as media_service
from app.media.models import MediaFile
from app.observability.errors import describe, safe_text
from app.outbox import service as outbox
from app.settings import LANGUAGES, Settings

log = logging.getLogger(__name__)

IMAGE_VARIANT = "display"  # 1600 px at most: within every network's limits


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
        data, ext = media_service.variant_bytes(settings, media, IMAGE_VARIANT)
    except Exception:  # noqa: BLE001 - a missing file posts without the image, not never
        log.warning("announcement %s: image %s unreadable, posted without it", announcement.id, media.id)
        return None
    return Image(data=data, mime=media_service.CONTENT_TYPES[ext], alt=announcement.image_alt)


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
    # An announcement's post or answer, or the assistant's answer under a mention (a question).
    announcement = session.get(Announcement, delivery.announcement_id) if delivery.announcement_id else None
    question = session.get(AssistantQuestion, delivery.question_id) if delivery.question_id else None
    channel = session.get(ChannelAccount, delivery.channel_id)
    if (announcement is None and question is None) or channel is None:
        raise outbox.Cancelled("announcement, question or channel gone")
    reason = None
    if announcement is not None and announcement.status != AnnouncementStatus.published:
        reason = "the announcement is no longer published"
    elif announcement is not None and not public_subject(session, announcement):
        reason = "what the announcement tells of is no longer public"
    elif not channel.enabled:
        reason = "the channel was switched off"
    elif channel.kind not in registry.KINDS:
        reason = f"unknown kind of channel {channel.kind!r}"
    if reason:
        withdraw(session, delivery, reason)
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
    if question is not None:
        post = OutgoingPost(text=delivery.text, language=question.language,
                            in_reply_to=RemoteRef(id=question.remote_id or ""),
                            visibility=question.remote_visibility or None)
    elif delivery.target.startswith(REPLY_TARGET):
        post = _answer_post(session, delivery, language)
    else:
        assert announcement is not None
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
        withdraw(session, delivery, "the reply it answers was hidden")
        raise outbox.Cancelled("the reply it answers was hidden")
    return OutgoingPost(text=reply.answer_text, language=language,
                        in_reply_to=RemoteRef(id=reply.remote_id, url=reply.url))


def _park(delivery: Delivery) -> None:
    delivery.status = DeliveryStatus.waiting_auth
    delivery.next_attempt_at = None
    delivery.updated_at = utcnow()


def needs_reauth(session: Session, channel: ChannelAccount, note: str) -> None:
    """Mark `channel` as waiting for new credentials (`note`, English, no secret, for the
    administrators' notice, made safe here all the same: `safe_text`): nothing is sent to it or
    read from it until they are saved."""
    note = safe_text(note)
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
        _failed(db, job, Transient(describe(exc)))
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
        announcement = session.get(Announcement, delivery.announcement_id) if delivery.announcement_id else None
        if delivery.question_id is not None:  # the assistant's answer under a mention
            if withdrawn:
                outbox.enqueue(session, DELETE_KIND, {"delivery_id": delivery.id}, dedupe_key=f"delete:{delivery.id}")
        elif withdrawn or announcement is None or not public_subject(session, announcement):
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
    """Record a failed attempt; raises outbox.RetryAt when it is to be tried again. Its text,
    logged and shown on the deliveries page, is made safe (`describe`): a network's error may
    quote a URL with a token in it."""
    message = describe(exc)[:500]
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
        elif isinstance(exc, Rejected) or delivery.attempts >= queue.MAX_ATTEMPTS:
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
    """Write `note` (made safe: it may quote a network's error) as the delivery's last error."""
    with db.transaction() as session:
        row = session.get(Delivery, delivery_id)
        if row is not None:
            row.last_error = safe_text(note)[:500]
            session.add(row)
