"""The rules of announcements: drafting from a template, editing, publishing now or at a
scheduled time, cancelling, and the per-call choice of which events may be announced.

Publishing writes, in the caller's transaction, the announcement's new state, its audit entry
and one delivery per enabled channel with its outbox message (app.announce.delivery): a
rolled-back transaction leaves none, and an announcement is never queued twice. A scheduled
announcement gets an outbox message of kind `announce.publish` due at its time; the worker
publishes it then, at most once (a conditional UPDATE decides).
"""

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.announce import delivery
from app.announce.drafting import draft_link, draft_texts
from app.announce.models import (
    Announcement,
    AnnouncementEvent,
    AnnouncementStatus,
    CallAnnouncementSettings,
)
from app.audit import REASON_SCHEDULED, AuditAction, TargetType, record
from app.call.models import Call
from app.call.phases import is_public
from app.clock import utcnow
from app.contentlang import fingerprint
from app.db import Database, get_or_not_found
from app.errors import InvalidTransition, ValidationFailed
from app.i18n import N_
from app.idea.models import Idea
from app.idea.queries import public_ideas
from app.media.models import MediaFile
from app.outbox import service as outbox
from app.settings import LANGUAGES, Settings

log = logging.getLogger(__name__)

PUBLISH_KIND = "announce.publish"
MAX_TEXT = 5000  # characters per language; each network's own limit is shown, not enforced
MAX_LINK = 500
MAX_ALT = 1000
EDITABLE = (AnnouncementStatus.draft, AnnouncementStatus.scheduled)
CALL_EVENTS = tuple(e for e in AnnouncementEvent if e != AnnouncementEvent.free)

EVENT_OFF = N_("This event is not announced for this call.")
NEEDS_CALL = N_("Choose the call this announcement is about.")
NEEDS_ANSWERED_IDEA = N_("Give the number of a public idea of this call that has an official answer.")
UNKNOWN_EVENT = N_("Choose what the announcement is about.")
TEXT_REQUIRED = N_("Write the announcement in at least one language.")
ORIGINAL_REQUIRED = N_("Write the text in its original language, or choose the language it is written in.")
UNKNOWN_LANGUAGE = N_("Choose one of the platform's languages.")
TEXT_TOO_LONG = N_("This text is too long: 5,000 characters at most.")
BAD_LINK = N_("Give a full web address starting with https:// or http://.")
ALT_REQUIRED = N_("Describe the image for people who cannot see it.")
ALT_TOO_LONG = N_("This description is too long: 1,000 characters at most.")
NO_IMAGE = N_("This call has no cover image to attach.")
BAD_TIME = N_("Give a date and time in the future.")
CALL_NOT_PUBLIC = N_("This call is not public yet: schedule the announcement for when it opens.")
CONFIRM_RESULTS = N_("Tick the box to confirm that the results are published.")


def enabled_events(session: Session, call_id: int) -> set[str]:
    """The events of `call_id` that may be announced (every event but `free` when none was turned off)."""
    row = session.get(CallAnnouncementSettings, call_id)
    disabled = set(row.disabled_events) if row else set()
    return {str(e) for e in CALL_EVENTS} - disabled


def set_enabled_events(session: Session, *, actor: User, call: Call, enabled: set[str]) -> None:
    """Keep `enabled` (unknown names ignored) as the events of `call` that may be announced, with an audit entry."""
    assert call.id is not None
    disabled = sorted(str(e) for e in CALL_EVENTS if e not in enabled)
    row = session.get(CallAnnouncementSettings, call.id)
    if row is None:
        row = CallAnnouncementSettings(call_id=call.id)
    row.disabled_events = disabled
    session.add(row)
    record(session, actor=actor, action=AuditAction.announce_settings, target_type=TargetType.call,
           target_id=call.id, details={"disabled": disabled})


def create_draft(session: Session, *, actor: User, settings: Settings, event: str, call: Call | None,
                 idea: Idea | None = None) -> Announcement:
    """A new draft of `event` about `call` (None: a free announcement about no call), its texts
    drafted in every language, its link and the call's cover as image. For `idea_answered`,
    `idea` is the answered idea. Raises ValidationFailed when the event is unknown, turned off
    for the call, needs a call or an answered public idea that is missing."""
    if event not in set(AnnouncementEvent):
        raise ValidationFailed({"event": UNKNOWN_EVENT})
    if call is None and event != AnnouncementEvent.free:
        raise ValidationFailed({"call_id": NEEDS_CALL})
    if call is not None:
        assert call.id is not None
        if event != AnnouncementEvent.free and event not in enabled_events(session, call.id):
            raise ValidationFailed({"event": EVENT_OFF})
    if event == AnnouncementEvent.idea_answered:
        if idea is None or call is None or idea.call_id != call.id or not idea.is_public or idea.answer_status is None:
            raise ValidationFailed({"idea_id": NEEDS_ANSWERED_IDEA})
    else:
        idea = None
    return _draft(session, settings, event, call, idea, actor.id)


def _draft(session: Session, settings: Settings, event: str, call: Call | None, idea: Idea | None,
           author_id: int | None) -> Announcement:
    texts = draft_texts(event, call, idea)
    # Drafted together from the translated templates: every language is up to date with French.
    source = fingerprint(texts.get("fr", ""))
    announcement = Announcement(
        call_id=call.id if call else None, idea_id=idea.id if idea else None, event=event,
        texts=texts, original_language="fr",
        translation_sources={lang: source for lang, text in texts.items() if lang != "fr" and text},
        link=draft_link(settings, event, call, idea), image_id=call.cover_id if call else None, author_id=author_id)
    session.add(announcement)
    session.flush()
    return announcement


def draft_for_event(session: Session, *, settings: Settings, event: str, call: Call) -> Announcement:
    """A draft of a call's `event` written by the system when the event happens
    (app.announce.events), with no author until a moderator publishes it."""
    return _draft(session, settings, event, call, None, None)


def _valid_link(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in link)


def edit(session: Session, *, announcement: Announcement, texts: dict[str, str], link: str, attach_image: bool,
         image_alt: str, original_language: str | None = None) -> None:
    """Replace the editable parts of a draft or scheduled announcement. `texts` maps languages
    to plain text (other keys ignored, surrounding space stripped); `original_language` the
    language it is written in (None: unchanged). A translation written or changed in this save
    is up to date with the original as saved; one left as it was while the original changed is
    out of date (`out_of_date`). Raises InvalidTransition once published or cancelled,
    ValidationFailed (nothing changed) on bad input: no text at all, none in the original
    language, an unknown language."""
    if announcement.status not in EDITABLE:
        raise InvalidTransition()
    original = original_language or announcement.original_language or LANGUAGES[0]
    clean = {lang: texts.get(lang, "").strip().replace("\r\n", "\n") for lang in LANGUAGES}
    link = link.strip()
    image_alt = image_alt.strip()
    errors: dict[str, str] = {}
    for lang, text in clean.items():
        if len(text) > MAX_TEXT:
            errors[f"text_{lang}"] = TEXT_TOO_LONG
    if original not in LANGUAGES:
        errors["original_language"] = UNKNOWN_LANGUAGE
    elif not any(clean.values()):
        errors[f"text_{original}"] = TEXT_REQUIRED
    elif not clean[original]:
        errors[f"text_{original}"] = ORIGINAL_REQUIRED
    if link and (len(link) > MAX_LINK or not _valid_link(link)):
        errors["link"] = BAD_LINK
    image_id = None
    if attach_image:
        call = session.get(Call, announcement.call_id) if announcement.call_id else None
        image_id = call.cover_id if call else None
        if image_id is None or session.get(MediaFile, image_id) is None:
            errors["attach_image"] = NO_IMAGE
        elif not image_alt:
            errors["image_alt"] = ALT_REQUIRED
    if len(image_alt) > MAX_ALT:
        errors["image_alt"] = ALT_TOO_LONG
    if errors:
        raise ValidationFailed(errors)
    source = fingerprint(clean[original])
    before, sources = dict(announcement.texts or {}), dict(announcement.translation_sources or {})
    if original != announcement.original_language:
        sources = {}  # another original: every translation is checked against it anew
    announcement.translation_sources = {
        lang: source if text != before.get(lang) or lang not in sources else sources[lang]
        for lang, text in clean.items() if lang != original and text}
    announcement.original_language = original
    announcement.texts = clean
    announcement.link = link
    announcement.image_id = image_id
    announcement.image_alt = image_alt if image_id else ""
    announcement.updated_at = utcnow()
    session.add(announcement)


def out_of_date(announcement: Announcement) -> list[str]:
    """The languages whose text was written from an earlier version of the original (their
    moderator should check them), in `LANGUAGES` order."""
    texts = announcement.texts or {}
    current = fingerprint(texts.get(announcement.original_language, ""))
    sources = announcement.translation_sources or {}
    return [lang for lang in LANGUAGES
            if lang != announcement.original_language and texts.get(lang) and sources.get(lang) != current]


def unanswered_count(session: Session, call_id: int) -> int:
    """How many public ideas of `call_id` have no official answer yet."""
    query = public_ideas(call_id).where(col(Idea.answer_status).is_(None)).order_by(None)
    return session.exec(select(func.count()).select_from(query.subquery())).one()


def _queue_delivery(session: Session, announcement: Announcement) -> None:
    delivery.queue(session, announcement)


def _move(session: Session, announcement: Announcement, to: AnnouncementStatus, **values: Any) -> str:
    """Move `announcement` from the status it was read with to `to` (setting `values` too) under
    a conditional UPDATE: when another transaction moved it meanwhile (two moderators publishing
    at once, a cancellation racing the worker), nothing changes here and InvalidTransition is
    raised. Returns the status it had."""
    assert announcement.id is not None
    previous = announcement.status
    if previous not in EDITABLE:
        raise InvalidTransition()
    session.flush()  # the edits made just before, in the same transaction
    changed = session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement.id, col(Announcement.status) == previous)
        .values(status=to, updated_at=utcnow(), **values)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        raise InvalidTransition()
    session.refresh(announcement)
    return previous


def publish(session: Session, *, actor: User, announcement: Announcement, confirmed: bool = False) -> None:
    """Publish a draft or scheduled announcement now: on the site, in the feed, and queued for
    the channels. An announcement of results needs `confirmed` (the moderator ticked the box
    after seeing how many ideas still have no answer). Raises InvalidTransition once published
    or cancelled, ValidationFailed without the confirmation or while its call is a draft."""
    if announcement.status not in EDITABLE:
        raise InvalidTransition()
    if announcement.event == AnnouncementEvent.results_published and not confirmed:
        raise ValidationFailed({"confirm_results": CONFIRM_RESULTS})
    call = session.get(Call, announcement.call_id) if announcement.call_id else None
    if call is not None and not is_public(call):
        raise ValidationFailed({"scheduled_at": CALL_NOT_PUBLIC})
    assert announcement.id is not None
    previous = _move(session, announcement, AnnouncementStatus.published, published_at=utcnow(), scheduled_at=None)
    record(session, actor=actor, action=AuditAction.announce_publish, target_type=TargetType.announcement,
           target_id=announcement.id, from_status=previous, to_status=AnnouncementStatus.published)
    _queue_delivery(session, announcement)


def schedule(session: Session, *, actor: User, announcement: Announcement, at: datetime | None,
             confirmed: bool = False) -> None:
    """Publish `announcement` at `at` (aware, in the future): the worker does it then (see
    `publish_due`). Same confirmation as `publish` for results. Raises InvalidTransition once
    published or cancelled, ValidationFailed for a missing or past time."""
    if announcement.status not in EDITABLE:
        raise InvalidTransition()
    if at is None or at <= utcnow():
        raise ValidationFailed({"scheduled_at": BAD_TIME})
    if announcement.event == AnnouncementEvent.results_published and not confirmed:
        raise ValidationFailed({"confirm_results": CONFIRM_RESULTS})
    assert announcement.id is not None
    previous = _move(session, announcement, AnnouncementStatus.scheduled, scheduled_at=at)
    record(session, actor=actor, action=AuditAction.announce_schedule, target_type=TargetType.announcement,
           target_id=announcement.id, from_status=previous, to_status=AnnouncementStatus.scheduled,
           details={"at": at.isoformat()})
    # One message per time chosen: a new time queues a new one; the old one then finds nothing due.
    outbox.enqueue(session, PUBLISH_KIND, {"announcement_id": announcement.id},
                   dedupe_key=f"{PUBLISH_KIND}:{announcement.id}:{at.isoformat()}", run_at=at)


def cancel(session: Session, *, actor: User, announcement: Announcement) -> None:
    """Cancel a draft or a scheduled announcement (it will not be published). Raises
    InvalidTransition once published or cancelled."""
    if announcement.status not in EDITABLE:
        raise InvalidTransition()
    assert announcement.id is not None
    previous = _move(session, announcement, AnnouncementStatus.cancelled)
    record(session, actor=actor, action=AuditAction.announce_cancel, target_type=TargetType.announcement,
           target_id=announcement.id, from_status=previous, to_status=AnnouncementStatus.cancelled)


CALL_WAIT = timedelta(hours=1)  # how often a due announcement looks again whether its call opened


def waiting_for_call(session: Session, announcement_id: int) -> datetime | None:
    """When to look again at `announcement_id`, scheduled and due but about a call that is
    still a draft (its opening postponed since, or scheduled before it): the call's opening
    when it has a date ahead, else in CALL_WAIT. None when it does not wait for its call."""
    now = utcnow()
    announcement = session.get(Announcement, announcement_id)
    if (announcement is None or announcement.status != AnnouncementStatus.scheduled
            or announcement.scheduled_at is None or announcement.scheduled_at > now or announcement.call_id is None):
        return None
    call = session.get(Call, announcement.call_id)
    if call is None or is_public(call, now):
        return None
    opens = call.submissions_start
    return opens if opens is not None and opens > now else now + CALL_WAIT


def publish_due(session: Session, announcement_id: int) -> bool:
    """Publish `announcement_id` if it is scheduled and due, as the system, once its call (if
    any) is public: an announcement about a call still in draft waits for it (see
    `waiting_for_call`), it is not published to have its posts cancelled. Idempotent: the
    status changes under a conditional UPDATE, so two workers, or one run twice, publish it
    once. Returns whether this call published it."""
    if waiting_for_call(session, announcement_id) is not None:
        return False
    now = utcnow()
    changed = session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id, col(Announcement.status) == AnnouncementStatus.scheduled,
               col(Announcement.scheduled_at) <= now)
        .values(status=AnnouncementStatus.published, published_at=now, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        return False
    announcement = get_or_not_found(session, Announcement, announcement_id)
    session.refresh(announcement)
    record(session, actor=None, action=AuditAction.announce_publish, target_type=TargetType.announcement,
           target_id=announcement_id, reason=REASON_SCHEDULED, from_status=AnnouncementStatus.scheduled,
           to_status=AnnouncementStatus.published)
    _queue_delivery(session, announcement)
    return True


def run_publish_due(db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The worker's handler of `announce.publish` messages (see `publish_due`). Raises
    outbox.RetryAt while the announcement waits for its call to open."""
    again: datetime | None = None
    with db.transaction() as session:
        if publish_due(session, int(payload["announcement_id"])):
            log.info("announcement %s published at its scheduled time", payload["announcement_id"])
        else:
            again = waiting_for_call(session, int(payload["announcement_id"]))
    if again is not None:
        raise outbox.RetryAt(again, "waiting for its call to open")
