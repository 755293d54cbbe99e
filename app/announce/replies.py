"""Dialogue, not broadcast: the public replies a published post receives on its network come
back to the platform, are moderated like comments, and a moderator can answer them there.

- Collection: once a delivery is sent to a channel that collects replies (Mastodon; Bluesky
  with a thread service), the worker reads its replies every COLLECT_EVERY for COLLECT_FOR
  (outbox kind `announce.collect_replies`, one message at a time per delivery). Incremental:
  only replies newer than the last one seen are asked for. Never twice: one row per (channel,
  remote id) under a unique constraint. The city's own answers, posted under replies, are not
  collected as replies. A rate limit pauses the channel until its reset, as for deliveries.
- Moderation: a collected reply waits, shown nowhere, until a moderator approves it (the
  pre-moderation of comments); approved, it shows on the announcement's page as a reaction
  from that network, with its author's handle and a link to the original; a moderator may
  hide it at any time; people may report it, which puts it back in the moderators' list.
- Answers: a moderator's answer becomes a Delivery with target "reply:<id>" on the same
  channel, posted under the reply through the same queue (same key on every attempt: once).
"""

import logging
import secrets as token_source
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlmodel import Session, col, or_, select

from app.account.models import User
from app.announce import delivery, sending
from app.announce.channels import registry
from app.announce.channels.base import AuthFailed, RateLimited, RemoteRef, Reply
from app.announce.counting import LENGTHS
from app.announce.models import (
    Announcement,
    ChannelAccount,
    ChannelState,
    Delivery,
    DeliveryStatus,
    NetworkReply,
    NetworkReplyReport,
    ReplyStatus,
)
from app.announce.sealing import SealBroken, unseal
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.db import Database
from app.errors import Conflict, InvalidTransition, ValidationFailed
from app.i18n import N_
from app.observability.errors import describe
from app.outbox import service as outbox
from app.settings import Settings

log = logging.getLogger(__name__)

COLLECT_KIND = delivery.COLLECT_KIND
COLLECT_EVERY = delivery.COLLECT_EVERY
COLLECT_FOR = delivery.COLLECT_FOR
REPLY_TARGET = delivery.REPLY_TARGET
MAX_ANSWER = 500

ANSWER_REQUIRED = N_("Write the answer.")
ANSWER_TOO_LONG = N_("This answer is too long for its network: Mastodon takes 500 characters, Bluesky 300, "
                     "X 280.")
ALREADY_ANSWERED = N_("This reply already has an answer.")


# -- collection -------------------------------------------------------------------------------


def collect(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `announce.collect_replies`: read the replies of one sent post,
    keep the new ones as pending, and queue the next reading until COLLECT_FOR after sending.
    Raises outbox.RetryAt on a rate limit, outbox.Cancelled when there is nothing to collect
    or the credentials were refused (the channel then waits for new ones, which start the
    readings again). A server down or answering nonsense only skips this reading."""
    with db.transaction() as session:
        row = session.get(Delivery, int(payload["delivery_id"]))
        if row is None or row.status != DeliveryStatus.sent or row.target != "post":
            raise outbox.Cancelled("nothing to collect replies of")
        channel = session.get(ChannelAccount, row.channel_id)
        if channel is None or not channel.enabled or channel.kind not in registry.KINDS:
            raise outbox.Cancelled("channel off or gone")
        if channel.state == ChannelState.needs_reauth:
            raise outbox.Cancelled("the channel needs re-authorisation")
        now = utcnow()
        if channel.paused_until is not None and channel.paused_until > now:
            raise outbox.RetryAt(channel.paused_until, "waiting for the network's rate-limit reset")
        try:
            secrets = unseal(settings, channel.secrets_sealed)
        except SealBroken as exc:
            raise outbox.Cancelled(str(exc)) from exc
        kind, config = registry.kind_of(channel.kind), dict(channel.config)
        ref = RemoteRef(id=row.remote_id, url=row.remote_url, extra=dict(row.remote_extra))
        since = row.remote_extra.get("replies_since")
        channel_id, delivery_id, sent_at = channel.id, row.id, row.sent_at
    network = registry.build(kind, config, secrets, settings=settings, db=db)
    if not network.collects_replies:
        return
    found: list[Reply] | None
    try:
        found = network.replies(ref, since=str(since) if since else None)
    except RateLimited as exc:
        with db.transaction() as session:
            paused = session.get(ChannelAccount, channel_id)
            if paused is not None:
                paused.paused_until = exc.reset_at
                session.add(paused)
        raise outbox.RetryAt(exc.reset_at, str(exc)) from exc
    except AuthFailed as exc:
        with db.transaction() as session:
            refused = session.get(ChannelAccount, channel_id, with_for_update=True)
            if refused is not None:  # the administrators are told; new credentials read again
                sending.needs_reauth(session, refused, describe(exc))
        raise outbox.Cancelled(f"credentials refused: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a server down or answering nonsense: read again next time
        log.warning("delivery %s: replies not read this time: %s", delivery_id, type(exc).__name__)
        found = None
    with db.transaction() as session:
        kept = _keep(session, channel_id or 0, delivery_id or 0, found or [])
        row = session.get(Delivery, delivery_id)
        if row is not None and found:
            row.remote_extra = {**row.remote_extra, "replies_since": found[-1].remote_id}
            session.add(row)
        if row is not None and sent_at is not None and utcnow() < sent_at + COLLECT_FOR:
            delivery.schedule_collection(session, row, utcnow() + COLLECT_EVERY)
    if kept:
        log.info("delivery %s: %s new replies collected", delivery_id, kept)


def web_address(url: str) -> str:
    """`url` when it is an absolute http(s) address without spaces, else "": what a network
    (any server, maybe a hostile one) says is an address becomes a link on the city's pages
    only then (never `javascript:` or `data:`)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return ""
    return url


def _keep(session: Session, channel_id: int, delivery_id: int, found: list[Reply]) -> int:
    """Store the replies not stored yet, except the city's own answers. Returns how many."""
    if not found:
        return 0
    ids = [r.remote_id for r in found]
    known = set(session.exec(select(NetworkReply.remote_id).where(
        NetworkReply.channel_id == channel_id, col(NetworkReply.remote_id).in_(ids))).all())
    ours = set(session.exec(select(Delivery.remote_id).where(
        Delivery.channel_id == channel_id, col(Delivery.remote_id).in_(ids))).all())
    kept = 0
    for reply in found:
        if reply.remote_id in known or reply.remote_id in ours:
            continue
        known.add(reply.remote_id)
        session.add(NetworkReply(
            delivery_id=delivery_id, channel_id=channel_id, remote_id=reply.remote_id[:300],
            parent_remote_id=reply.parent_id[:300], author_handle=reply.author_handle[:200],
            author_url=web_address(reply.author_url)[:500], url=web_address(reply.url)[:500],
            text=reply.text[:5000],
            posted_at=reply.created_at))
        kept += 1
    return kept


# -- moderation ---------------------------------------------------------------------------------


def to_review(session: Session, limit: int = 100) -> list[tuple[NetworkReply, ChannelAccount, Announcement]]:
    """Replies waiting for a moderator: new ones and reported ones, oldest first."""
    rows = session.exec(
        select(NetworkReply, ChannelAccount, Announcement)
        .join(ChannelAccount, col(ChannelAccount.id) == NetworkReply.channel_id)
        .join(Delivery, col(Delivery.id) == NetworkReply.delivery_id)
        .join(Announcement, col(Announcement.id) == Delivery.announcement_id)
        .where(or_(NetworkReply.status == ReplyStatus.pending,
                   (col(NetworkReply.status) == ReplyStatus.approved) & (col(NetworkReply.reports) > 0)))
        .order_by(col(NetworkReply.collected_at), col(NetworkReply.id)).limit(limit)).all()
    return [(r, c, a) for r, c, a in rows]


def approved_for(session: Session, announcement_id: int) -> list[tuple[NetworkReply, ChannelAccount, Delivery | None]]:
    """The approved replies to an announcement's posts, oldest first, each with its network and
    the delivery of the city's answer to it (None without one)."""
    rows = session.exec(
        select(NetworkReply, ChannelAccount)
        .join(ChannelAccount, col(ChannelAccount.id) == NetworkReply.channel_id)
        .join(Delivery, col(Delivery.id) == NetworkReply.delivery_id)
        .where(Delivery.announcement_id == announcement_id, NetworkReply.status == ReplyStatus.approved)
        .order_by(col(NetworkReply.posted_at), col(NetworkReply.id))).all()
    answers = {d.target: d for d in session.exec(select(Delivery).where(
        Delivery.announcement_id == announcement_id, col(Delivery.target).startswith(REPLY_TARGET))).all()}
    return [(r, c, answers.get(f"{REPLY_TARGET}{r.id}")) for r, c in rows]


def _decide(session: Session, actor: User, reply: NetworkReply, status: ReplyStatus, action: AuditAction,
            reason: str = "") -> None:
    reply.status = status
    reply.reports = 0
    reply.moderated_by = actor.id
    reply.moderated_at = utcnow()
    session.add(reply)
    session.execute(delete(NetworkReplyReport).where(col(NetworkReplyReport.reply_id) == reply.id))
    assert reply.id is not None
    record(session, actor=actor, action=action, target_type=TargetType.reply, target_id=reply.id, reason=reason)


def approve(session: Session, *, actor: User, reply: NetworkReply) -> None:
    """Show a reply on the announcement's page (and dismiss its reports)."""
    _decide(session, actor, reply, ReplyStatus.approved, AuditAction.reply_approve)


def hide(session: Session, *, actor: User, reply: NetworkReply, reason: str = "") -> None:
    """Hide a reply: shown nowhere any more; a waiting answer to it is cancelled."""
    _decide(session, actor, reply, ReplyStatus.hidden, AuditAction.reply_hide, reason)
    answer = _answer_delivery(session, reply)
    if answer is not None and answer.status in delivery.CANCELLABLE:
        delivery.cancel(session, actor=None, delivery=answer, reason="the reply was hidden")


def report(session: Session, *, reporter: User, reply: NetworkReply) -> bool:
    """Count `reporter`'s report of an approved reply once: it goes back to the moderators'
    list (still shown until they decide). Returns whether this report was new."""
    assert reply.id is not None and reporter.id is not None
    if reply.status != ReplyStatus.approved:
        raise InvalidTransition()
    if session.get(NetworkReplyReport, (reply.id, reporter.id)) is not None:
        return False
    session.add(NetworkReplyReport(reply_id=reply.id, user_id=reporter.id))
    reply.reports += 1
    session.add(reply)
    session.flush()
    return True


def _answer_delivery(session: Session, reply: NetworkReply) -> Delivery | None:
    return session.exec(select(Delivery).where(Delivery.channel_id == reply.channel_id,
                                               Delivery.target == f"{REPLY_TARGET}{reply.id}")).first()


def answer(session: Session, *, actor: User, reply: NetworkReply, text: str) -> Delivery:
    """Answer a reply on its network, under it, as the city: queued in the caller's transaction
    (approving the reply if it was waiting). Raises ValidationFailed for an empty answer or one
    over the network's limit, Conflict when it already has an answer, InvalidTransition for a
    hidden reply (answering it would show it again)."""
    if reply.status == ReplyStatus.hidden:
        raise InvalidTransition()
    text = text.strip().replace("\r\n", "\n")
    channel = session.get(ChannelAccount, reply.channel_id)
    assert channel is not None and reply.id is not None
    if not text:
        raise ValidationFailed({"answer": ANSWER_REQUIRED})
    measure = LENGTHS.get(channel.kind)
    limit = {"mastodon": 500, "bluesky": 300, "x": 280}.get(channel.kind, MAX_ANSWER)
    if (measure(text) if measure else len(text)) > limit:
        raise ValidationFailed({"answer": ANSWER_TOO_LONG})
    if _answer_delivery(session, reply) is not None:
        raise Conflict(ALREADY_ANSWERED)
    original = session.get(Delivery, reply.delivery_id)
    assert original is not None
    if reply.status != ReplyStatus.approved:
        approve(session, actor=actor, reply=reply)
    reply.answer_text = text
    session.add(reply)
    row = Delivery(announcement_id=original.announcement_id, channel_id=reply.channel_id,
                   target=f"{REPLY_TARGET}{reply.id}", key=token_source.token_hex(16), next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    delivery.enqueue_row(session, row)
    record(session, actor=actor, action=AuditAction.reply_answer, target_type=TargetType.reply,
           target_id=reply.id)
    return row
