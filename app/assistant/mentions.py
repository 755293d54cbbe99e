"""The assistant on Mastodon: questions asked by mentioning the city's account, answered under
the mention through the delivery queue of announcements (app.announce.delivery), exactly once.

- Reading: the worker polls each enabled Mastodon channel every EVERY (outbox kind
  `assistant.mentions`, which queues its own next run) for its notifications of type mention
  newer than the last one read (`ChannelAccount.mentions_since`, written in the transaction
  that keeps the questions: a worker stopped before it reads them again, and the unique
  (channel, remote id) of `AssistantQuestion` keeps one question per mention whatever
  happens). On the first reading of a channel, mentions older than BACKLOG are left
  unanswered. Automated accounts (`bot`) are not answered, and each Mastodon account is
  rate-limited like a person (`Settings.assistant_questions_per_hour`): past it, a mention is
  left unanswered and nothing is kept of it.
- Answering: the mention's text (markup and the city's handle removed) is answered as a
  visitor's question (`app.assistant.answering.understand`, user None) in its language: the
  status's declared language, else the one detected, else the channel's. The asker is a
  stranger to the platform: questions about one's own supports or ideas (PERSONAL intents) are
  not answered from anyone's data; the reply says to ask on the platform, signed in. An
  unknown question goes straight to the moderators' queue (handed) and the reply says that a
  person will answer there; the person's answer is posted under the mention too
  (`queue_person_answer`, called by app.assistant.handoff.answer).
- Posting: one `Delivery` per answer (question_id set, no announcement; target TARGET_ANSWER
  or TARGET_PERSON, unique per question), with the exact text in `Delivery.text`: the
  asker's handle first (Mastodon notifies the accounts a status names; a direct mention stays
  between them and the city), the answer cut to fit Mastodon's 500 characters with its source
  link, and the mention's visibility (public, unlisted, private, direct). The queue's
  crash-safety and Mastodon's Idempotency-Key (the delivery's key) post it once.
- Personal data: a question from a mention keeps the asker's handle; it is deleted after
  `Settings.assistant_retention_days` like every question (app.assistant.privacy.purge, its
  deliveries with it) and erased on the person's request by staff (`erase_handle`).
"""

import logging
import re
import secrets as token_source
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app import links
from app.account.models import User
from app.announce import delivery as announce_delivery
from app.announce.channels import registry
from app.announce.channels.base import AuthFailed, Mention, RateLimited
from app.announce.channels.status_html import html_to_text
from app.announce.counting import mastodon_length
from app.announce.models import ChannelAccount, ChannelState, Delivery
from app.announce.sealing import SealBroken, unseal
from app.assistant.answering import MAX_QUESTION, Answer, understand
from app.assistant.intents import Intent
from app.assistant.models import AssistantQuestion, Outcome
from app.assistant.retrieval import clean_question
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.contentlang import declared_or_detected
from app.db import Database
from app.errors import RateLimited as TooMany
from app.errors import ValidationFailed
from app.i18n import N_, _
from app.i18n import language as in_language
from app.observability.errors import describe
from app.outbox import service as outbox
from app.ratelimit import service as ratelimit
from app.richtext import render_markdown
from app.settings import LANGUAGES, Settings

log = logging.getLogger(__name__)

POLL_KIND = "assistant.mentions"
EVERY = timedelta(minutes=1)
BACKLOG = timedelta(days=1)
KIND = "mastodon"
TARGET_ANSWER = "mention"
TARGET_PERSON = "mention:person"
MAX_POST = 500  # Mastodon's limit, counted as Mastodon counts (app.announce.counting)
PERSONAL = frozenset({Intent.supports_left, Intent.my_ideas, Intent.why_refused})
TOO_LONG_FOR_MASTODON = N_("This question was asked on Mastodon: the answer is posted under it there, in 500 "
                           "characters at most with the asker's handle. Please shorten it.")


def schedule(session: Session, at: datetime) -> None:
    """Queue a reading of the mentions at `at` (one message per EVERY slot)."""
    slot = int(at.timestamp()) // int(EVERY.total_seconds())
    outbox.enqueue(session, POLL_KIND, {}, dedupe_key=f"{POLL_KIND}:{slot}", run_at=at)


@dataclass
class _Channel:
    id: int
    config: dict[str, Any]
    sealed: str
    since: str


def poll(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `assistant.mentions`: read and answer the new mentions of every
    enabled Mastodon channel that is not waiting for credentials or a rate-limit reset, then
    queue the next reading. One channel's failure does not stop the others."""
    now = utcnow()
    with db.transaction() as session:
        rows = session.exec(select(ChannelAccount).where(
            ChannelAccount.kind == KIND, col(ChannelAccount.enabled),
            ChannelAccount.state == ChannelState.ok).order_by(col(ChannelAccount.id))).all()
        channels = [_Channel(row.id or 0, dict(row.config), row.secrets_sealed, row.mentions_since)
                    for row in rows if row.paused_until is None or row.paused_until <= now]
        schedule(session, now + EVERY)
    for channel in channels:
        try:
            read_channel(settings, db, channel.id, channel.config, channel.sealed, channel.since)
        except Exception:  # noqa: BLE001 - one channel's trouble must not stop the others
            log.exception("channel %s: mentions not read this time", channel.id)


def read_channel(settings: Settings, db: Database, channel_id: int, config: dict[str, Any], sealed: str,
                 since: str) -> int:
    """Read channel `channel_id`'s mentions newer than notification `since` ("" for the first
    reading) and answer them (see the module's docstring). Returns how many were answered. A
    rate limit pauses the channel; a refused token (a token without `read:notifications`) only
    skips the reading, logged: the channel keeps publishing."""
    try:
        secrets = unseal(settings, sealed)
    except SealBroken:
        return 0
    network = registry.build(registry.kind_of(KIND), config, secrets, settings=settings, db=db)
    try:
        found: list[Mention] = network.mentions(since=since or None)  # type: ignore[attr-defined]
    except RateLimited as exc:
        with db.transaction() as session:
            paused = session.get(ChannelAccount, channel_id, with_for_update=True)
            if paused is not None:
                paused.paused_until = exc.reset_at
                session.add(paused)
        return 0
    except AuthFailed as exc:
        # Often a token made before the assistant, without the `read:notifications` scope: the
        # channel keeps publishing (a token really revoked is caught by its next delivery).
        log.warning("channel %s: mentions not read, the token was refused: %s", channel_id, describe(exc))
        return 0
    if not found:
        return 0
    answered = 0
    with db.transaction() as session:
        channel = session.get(ChannelAccount, channel_id, with_for_update=True)
        if channel is None or channel.mentions_since != since:
            return 0  # another reading went first: it answered these
        oldest = utcnow() - BACKLOG if not since else None
        for mention in found:
            if oldest is not None and mention.created_at < oldest:
                continue
            if take(session, settings, channel, mention) is not None:
                answered += 1
        channel.mentions_since = found[-1].notification_id[:40]
        session.add(channel)
    if answered:
        log.info("channel %s: %s mentions answered", channel_id, answered)
    return answered


def take(session: Session, settings: Settings, channel: ChannelAccount, mention: Mention) -> AssistantQuestion | None:
    """Keep `mention` as a question and queue its answer under it, in the caller's transaction;
    None (nothing kept) for a mention already kept, one from an automated account, an empty
    one, or one over its author's hourly limit."""
    assert channel.id is not None
    known = session.exec(select(AssistantQuestion.id).where(
        AssistantQuestion.channel_id == channel.id, AssistantQuestion.remote_id == mention.remote_id[:300])).first()
    text = clean_question(mention.text, limit=MAX_QUESTION)
    if known is not None or mention.bot or not text:
        return None
    handle = mention.author_handle[:200]
    key = f"assistant:mastodon:{channel.id}:{handle.lower()}"
    try:
        ratelimit.check(session, key, limit=settings.assistant_questions_per_hour, window=timedelta(hours=1))
    except TooMany:
        log.info("channel %s: a mention left unanswered, its author asked too many questions", channel.id)
        return None
    ratelimit.record(session, key)
    language = declared_or_detected(mention.language[:2].lower(), text) or str(
        channel.config.get("language") or settings.default_language)
    language = language if language in LANGUAGES else settings.default_language
    with in_language(language):
        answer = understand(session, user=None, text=text, language=language)
        reply = _reply_text(settings, handle, answer)
    unknown = answer.kind == "unknown"
    row = AssistantQuestion(
        user_id=None, language=language, text=text, outcome=Outcome.handed if unknown else Outcome.answered,
        handed_at=utcnow() if unknown else None, entry_id=answer.entry_id, intent=answer.intent, score=answer.score,
        channel_id=channel.id, remote_id=mention.remote_id[:300], remote_handle=handle,
        remote_visibility=mention.visibility)
    session.add(row)
    session.flush()
    _queue(session, row, TARGET_ANSWER, reply)
    return row


def _reply_text(settings: Settings, handle: str, answer: Answer) -> str:
    """The text posted under a mention for `answer`, in the current language (see `fit`)."""
    source = settings.absolute_url(answer.source.href) if answer.source else ""
    if answer.kind == "entry":
        return fit(handle, html_to_text(answer.html), source)
    if answer.kind == "live" and answer.intent in PERSONAL:
        return fit(handle, _("I can only answer this for you when you are signed in on the platform: it is about "
                             "your own supports or ideas. Ask me there:"),
                   settings.absolute_url(links.path("assistant:page")))
    if answer.kind == "live":
        lines = [answer.text, *(f"- {item.label}" for item in answer.items)]
        return fit(handle, "\n".join(lines), source)
    return fit(handle, _("I don't know the answer to this question. A person from the city will answer you here."),
               "")


def fit(handle: str, body: str, link: str) -> str:
    """`handle`, `body` and `link` (on its own line, "" for none) as one status within MAX_POST
    characters as Mastodon counts them (a link 23, a handle its name): the body is cut at a word
    and ends with "…" when it is too long."""
    def whole(text: str) -> str:
        return f"{handle} {text}" + (f"\n\n{link}" if link else "")
    body = body.strip()
    if mastodon_length(whole(body)) <= MAX_POST:
        return whole(body)
    words = body.split(" ")
    while words and mastodon_length(whole(" ".join(words) + "…")) > MAX_POST:
        words.pop()
    return whole(" ".join(words).rstrip(",.;:") + "…")


def _queue(session: Session, question: AssistantQuestion, target: str, text: str) -> Delivery:
    assert question.id is not None and question.channel_id is not None
    row = Delivery(question_id=question.id, channel_id=question.channel_id, target=target, text=text,
                   key=token_source.token_hex(16), next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    announce_delivery.enqueue_row(session, row)
    return row


def check_person_answer(question: AssistantQuestion, answer_md: str) -> None:
    """Raise ValidationFailed ("answer_md") when a person's answer to a question from a mention
    would not fit under it on Mastodon; nothing for a question asked on the platform."""
    if question.channel_id is None or not question.remote_id:
        return
    text = f"{question.remote_handle} {html_to_text(render_markdown(answer_md.strip()))}"
    if mastodon_length(text) > MAX_POST:
        raise ValidationFailed({"answer_md": TOO_LONG_FOR_MASTODON})


def queue_person_answer(session: Session, question: AssistantQuestion) -> Delivery | None:
    """Queue a person's answer (`question.answer_html`, checked by `check_person_answer`) under
    the mention that asked `question`, once; None for a question asked on the platform, or
    whose channel is gone."""
    if question.channel_id is None or not question.remote_id:
        return None
    exists = session.exec(select(Delivery).where(Delivery.question_id == question.id,
                                                 Delivery.target == TARGET_PERSON)).first()
    if exists is not None:
        return exists
    text = f"{question.remote_handle} {html_to_text(question.answer_html)}"
    return _queue(session, question, TARGET_PERSON, text)


HANDLE = re.compile(r"@?[\w.-]+@[\w.-]+\.\w+")
HANDLE_INVALID = N_("Enter the account's full handle, like @name@mastodon.example.")


def erase_handle(session: Session, *, handle: str, actor: User | None = None) -> int:
    """Delete every question the Mastodon account `handle` (`@name@server`, any case) asked,
    with the answers queued or posted for them (their deliveries); returns how many questions.
    For a person without an account here who asks the city to erase what it keeps; audited
    when a person does it (`actor`), with the count and without the handle. Raises
    ValidationFailed ("handle") for something that is not a full handle."""
    wanted = handle.strip().lower()
    if not HANDLE.fullmatch(wanted):
        raise ValidationFailed({"handle": HANDLE_INVALID})
    if not wanted.startswith("@"):
        wanted = "@" + wanted
    ids = list(session.exec(select(AssistantQuestion.id).where(
        col(AssistantQuestion.channel_id).is_not(None), func.lower(AssistantQuestion.remote_handle) == wanted)).all())
    erased = 0
    if ids:
        session.execute(delete(Delivery).where(col(Delivery.question_id).in_(ids)))
        result = session.execute(delete(AssistantQuestion).where(col(AssistantQuestion.id).in_(ids)))
        erased = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if actor is not None:
        record(session, actor=actor, action=AuditAction.assistant_erase, target_type=TargetType.assistant_question,
               target_id=0, details={"questions_deleted": erased})
    return erased
