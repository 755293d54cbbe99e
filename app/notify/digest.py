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

The e-mail goes through the outbox like any other, with a dedupe key per (person, period).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import authz, links, mail
from app.account.models import User
from app.authz import Action
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.db import Database
from app.idea.models import Idea
from app.locks import lock_user
from app.notify import service
from app.notify.models import KIND_LABELS, EmailDelivery, Notification, NotificationDigest, NotificationKind
from app.notify.periods import Period, period_by_key
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
    """The rows `person` may still see now, of kinds they still want by e-mail."""
    wanted = {k for k, d in service.delivery_preferences(session, person.id or 0).items() if d != EmailDelivery.none}
    items = []
    for row in rows:
        if row.kind in wanted and _still_visible(session, person, row):
            items.append(DigestItem(kind=row.kind, actor=row.actor_name, subject=row.subject, detail=row.detail,
                                    is_status=service.is_status_label(row.detail),
                                    link=settings.absolute_url(row.link)))
    return items


def _still_visible(session: Session, person: User, row: Notification) -> bool:
    """Whether what the notification tells of is still in `person`'s sight, as the pages show it."""
    if row.idea_id is not None:
        idea = session.get(Idea, row.idea_id)
        if idea is None or not authz.can(person, Action.idea_view, idea):
            return False
    if row.comment_id is not None:
        comment = session.get(Comment, row.comment_id)
        if comment is None or comment.deleted_at is not None:
            return False
        if comment.hidden_at is not None and not (authz.is_own(person, comment) or authz.is_moderator(person)):
            return False
    elif row.kind in (NotificationKind.comment, NotificationKind.reply):
        return False  # the comment it told of was erased
    if row.call_id is not None:
        call = session.get(Call, row.call_id)
        if call is None or not authz.can(person, Action.call_view, call):
            return False
    return True


def _queue(session: Session, settings: Settings, person: User, period: Period, items: list[DigestItem]) -> None:
    assert person.id is not None
    present = {item.kind for item in items}
    kinds: list[str] = [kind.value for kind in NotificationKind if kind.value in present]
    stops = [(KIND_LABELS[NotificationKind(k)], service.unsubscribe_url(settings, user_id=person.id, kind=k))
             for k in kinds]
    mail.queue_email(
        session, to=person.email, template="notify_digest", lang=person.language,
        dedupe_key=f"notify.digest:{person.id}:{period.cadence.value}:{period.key}",
        name=person.display_name, cadence=period.cadence.value, items=items, stops=stops,
        # The List-Unsubscribe address switches off every kind the digest holds.
        unsubscribe=service.unsubscribe_url(settings, user_id=person.id, kind=kinds),
        one_click=service.one_click_url(settings, user_id=person.id, kind=kinds),
        preferences=settings.absolute_url(links.path("notify:preferences")),
        more_links=[item.link for item in items] + [url for _label, url in stops],
    )
