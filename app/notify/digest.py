"""Digests: the notifications a person chose to receive daily or weekly, in one e-mail.

`notify` marks such a notification with its cadence (`Notification.digest`) and makes sure the
job of its period is queued (app.notify.periods). When the job is due, the worker runs `run`:
for each person with notifications waiting for that cadence, written before the period's end
(earlier periods a stopped worker missed included), in a transaction of its own:

1. the person's row is locked, then their waiting notifications are read;
2. a NotificationDigest row (unique per person, cadence and period) is inserted: if it exists,
   this period was already dealt with (a second worker, a retry, a restart), and nothing is sent;
3. the notifications are marked digested, and those the person may still see now, of kinds they
   did not switch off since, go into one e-mail in their current language; none left, no e-mail.

The e-mail goes through the outbox like any other, with a dedupe key per (person, period). It
names its notifications, so that the worker writes it anew when it sends it (`recompose`, called
by app.notify.delivery): what became invisible or unwanted meanwhile leaves it, names are current.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import authz, links, mail
from app.account.models import User
from app.clock import utcnow
from app.db import Database
from app.i18n import translate
from app.locks import lock_user
from app.notify import service
from app.notify.models import KIND_LABELS, EmailDelivery, Notification, NotificationDigest, NotificationKind
from app.notify.periods import Period, period_by_key
from app.notify.views import FORMER_ACTOR, views
from app.outbox.service import Cancelled
from app.settings import Settings


@dataclass
class DigestItem:
    """One line of a digest: what the notification list would say, and the link."""

    kind: str
    actor: str
    subject: str
    detail: str
    is_status: bool
    link: str
    notification_id: int | None = None


def run(settings: Settings, db: Database, _message_id: int, payload: dict[str, Any]) -> None:
    """The outbox handler of a digest job (payload: `cadence`, `period` key). Idempotent: see
    the module docstring. An error for one person is raised after the others were dealt with,
    so the outbox retries the job, and those already sent are skipped."""
    period = period_by_key(EmailDelivery(payload["cadence"]), str(payload["period"]))
    with db.session() as session:
        people = list(session.exec(
            select(Notification.user_id).where(*_waiting(period)).distinct().order_by(col(Notification.user_id))
        ).all())
    failure: Exception | None = None
    for user_id in people:
        try:
            with db.transaction() as session:
                send_for(session, settings, user_id=user_id, period=period)
        except Exception as exc:  # noqa: BLE001 - the others still get theirs; the job is retried
            failure = exc
    if failure is not None:
        raise failure


def _waiting(period: Period) -> list[Any]:
    return [col(Notification.digest) == period.cadence.value, col(Notification.digested_at).is_(None),
            col(Notification.created_at) < period.end]


def send_for(session: Session, settings: Settings, *, user_id: int, period: Period) -> NotificationDigest | None:
    """Deal with one person's waiting notifications for `period`, in the caller's transaction:
    returns the digest recorded, or None when another run had already dealt with them."""
    lock_user(session, user_id)  # a concurrent run for the same person waits, then finds nothing
    rows = list(session.exec(
        select(Notification).where(Notification.user_id == user_id, *_waiting(period))
        .order_by(col(Notification.created_at), col(Notification.id))
    ).all())
    if not rows:
        return None
    digest = NotificationDigest(user_id=user_id, cadence=period.cadence.value, period=period.key)
    try:
        with session.begin_nested():
            session.add(digest)
    except IntegrityError:
        return None  # this period was dealt with by another run
    person = session.get(User, user_id)
    items = _items(session, settings, person, rows) if person is not None and authz.is_verified(person) else []
    session.execute(update(Notification).where(col(Notification.id).in_([r.id for r in rows]))
                    .values(digested_at=utcnow()))
    digest.item_count = len(items)
    session.add(digest)
    if person is not None and items:
        _queue(session, settings, person, period, items)
    return digest


def _items(session: Session, settings: Settings, person: User, rows: list[Notification]) -> list[DigestItem]:
    """The rows `person` may still see now (app.notify.views, as the notification list), of
    kinds they still want by e-mail, worded as they are now (current titles and names)."""
    wanted = {k for k, d in service.delivery_preferences(session, person.id or 0).items() if d != EmailDelivery.none}
    return [DigestItem(kind=v.notification.kind, subject=v.subject, detail=v.notification.detail,
                       actor=translate(person.language, FORMER_ACTOR) if v.actor_former else v.actor,
                       is_status=service.is_status_label(v.notification.detail), link=settings.absolute_url(v.link),
                       notification_id=v.notification.id)
            for v in views(session, person, rows) if v.available and v.notification.kind in wanted]


def _context(settings: Settings, person: User, cadence: str, items: list[DigestItem]) -> dict[str, Any]:
    """What templates/emails/notify_digest.txt needs."""
    assert person.id is not None
    present = {item.kind for item in items}
    kinds: list[str] = [kind.value for kind in NotificationKind if kind.value in present]
    stops = [(KIND_LABELS[NotificationKind(k)], service.unsubscribe_url(settings, user_id=person.id, kind=k))
             for k in kinds]
    return {
        "name": person.display_name, "cadence": cadence, "items": items, "stops": stops,
        # The List-Unsubscribe address switches off every kind the digest holds.
        "unsubscribe": service.unsubscribe_url(settings, user_id=person.id, kind=kinds),
        "one_click": service.one_click_url(settings, user_id=person.id, kind=kinds),
        "preferences": settings.absolute_url(links.path("notify:preferences")),
        "more_links": [item.link for item in items] + [url for _label, url in stops],
    }


def _queue(session: Session, settings: Settings, person: User, period: Period, items: list[DigestItem]) -> None:
    assert person.id is not None
    mail.queue_email(
        session, to=person.email, template="notify_digest", lang=person.language, user_id=person.id,
        dedupe_key=f"notify.digest:{person.id}:{period.cadence.value}:{period.key}",
        # What the worker needs to write it anew when it sends it (app.notify.delivery).
        extra={"notification_ids": [i.notification_id for i in items], "cadence": period.cadence.value},
        **_context(settings, person, period.cadence.value, items),
    )


def recompose(session: Session, settings: Settings, person: User, *, notification_ids: list[int],
              cadence: str) -> mail.Composed:
    """A queued digest written anew at send time from what is true now (titles, names, what
    `person` may still see and still wants by e-mail). Raises Cancelled when nothing is left."""
    rows = list(session.exec(
        select(Notification).where(col(Notification.id).in_(notification_ids), Notification.user_id == person.id)
        .order_by(col(Notification.created_at), col(Notification.id))
    ).all())
    items = _items(session, settings, person, rows)
    if not items:
        raise Cancelled("nothing in the digest is still visible to, or wanted by, the recipient")
    return mail.compose("notify_digest", person.language, signature=mail.platform_signature(session),
                        **_context(settings, person, cadence, items))
