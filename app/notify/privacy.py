"""What the notifications domain keeps about a person: the notifications they received and
their e-mail preferences. Both go when the account is deleted."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account.models import User
from app.notify.models import KIND_LABELS, EmailDelivery, Notification, NotificationDigest, NotificationPreference
from app.personal_data import Holding, when
from app.settings import Settings


def export_notifications(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every notification `user` received. Other people appear only by the public name they
    had next to what they did (`by`)."""
    notifications = session.exec(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(col(Notification.id))).all()
    return [{
        "kind": n.kind,
        "by": n.actor_name or None,
        "subject": n.subject,
        "detail": n.detail,
        "link": f"{base_url}{n.link}" if n.link.startswith("/") else n.link,
        "created_at": when(n.created_at),
        "read_at": when(n.read_at),
    } for n in notifications]


def erase_notifications(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's notifications. Returns no figure."""
    session.execute(delete(Notification).where(col(Notification.user_id) == user_id))
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
