"""What the notifications domain keeps about a person: the notifications they received and
their e-mail preferences, both gone when the account is deleted, and the e-mails queued for them
(app/outbox rows), cancelled then."""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app import mail
from app.account.models import User
from app.i18n import translate
from app.notify.models import KIND_LABELS, EmailDelivery, Notification, NotificationDigest, NotificationPreference
from app.notify.views import FORMER_ACTOR, views
from app.outbox.models import OutboxMessage, OutboxStatus
from app.personal_data import Holding, when
from app.settings import Settings

WAITING = (OutboxStatus.pending, OutboxStatus.running)


def export_notifications(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every notification `user` received, as the notification list shows it now
    (app.notify.views): about what they may no longer see, only its kind and dates. Other people
    appear only by their public name (`by`), "Former member" once their account is deleted."""
    notifications = session.exec(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(col(Notification.id))).all()
    return [{
        "kind": v.notification.kind,
        "available": v.available,
        "by": translate(user.language, FORMER_ACTOR) if v.actor_former else v.actor or None,
        "subject": v.subject or None,
        "detail": v.notification.detail if v.available else None,
        "link": (f"{base_url}{v.link}" if v.link.startswith("/") else v.link) or None,
        "created_at": when(v.notification.created_at),
        "read_at": when(v.notification.read_at),
    } for v in views(session, user, notifications)]


def erase_notifications(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's notifications; in other people's, blank the copies of their name kept
    before notifications named their actor by id (they now show "Former member"), and the text
    of the e-mails about them still waiting. Returns no figure."""
    session.execute(delete(Notification).where(col(Notification.user_id) == user_id))
    session.execute(update(Notification)
                    .where(col(Notification.actor_id) == user_id, col(Notification.actor_name) != "")
                    .values(actor_name=""))
    # E-mails about what they did, still waiting (one notification, or a digest of several):
    # their text named them. The worker composes such e-mails anew when it sends them
    # (app.notify.delivery), so the text can go now. Few e-mails wait at any time.
    told = set(session.exec(select(Notification.id).where(col(Notification.actor_id) == user_id)).all())
    waiting = session.exec(select(OutboxMessage).where(
        OutboxMessage.kind == mail.EMAIL_KIND, col(OutboxMessage.status).in_(WAITING)).with_for_update()).all()
    for message in waiting:
        about = {message.payload.get("notification_id"), *(message.payload.get("notification_ids") or [])}
        if about & told:
            message.payload = {**message.payload, "subject": "", "body": "", "html": ""}
            session.add(message)
    return {}


def export_preferences(session: Session, *, user: User, base_url: str) -> dict[str, dict[str, str]]:
    """How `user` gets e-mails, per kind of notification: {kind: {"email": delivery}} for every
    kind, the delivery being immediate, daily, weekly or none (app.notify.models.EmailDelivery)."""
    preferences = {p.kind: p.delivery for p in session.exec(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)).all()}
    return {str(kind): {"email": preferences.get(str(kind), EmailDelivery.immediate.value)} for kind in KIND_LABELS}


def erase_preferences(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's e-mail preferences and the record of their digests. Returns no figure."""
    session.execute(delete(NotificationPreference).where(col(NotificationPreference.user_id) == user_id))
    session.execute(delete(NotificationDigest).where(col(NotificationDigest.user_id) == user_id))
    return {}


NOTIFICATIONS = Holding("notifications", export=export_notifications, erase=erase_notifications)
PREFERENCES = Holding("notification_preferences", export=export_preferences, erase=erase_preferences)


def erase_emails(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Cancel the e-mails still waiting for the person and blank their address in every e-mail
    row (app.mail.cancel_for_person); the worker also checks at send time that the account
    still exists. Returns {"emails_cancelled": n}."""
    person = session.get(User, user_id)
    address = person.email if person is not None else ""
    return {"emails_cancelled": mail.cancel_for_person(session, user_id=user_id, address=address)}


EMAILS = Holding("emails", erase=erase_emails)
