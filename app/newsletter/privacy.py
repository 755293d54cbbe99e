"""What the newsletter keeps about a person: the subscription of their account's e-mail address
(wherever it was made, signed in or not; once the account confirmed the address is theirs),
exported, and deleted with the account; the e-mails
still queued for it are cancelled by the e-mails holding (app.notify.privacy.EMAILS, by address)
and at send time (app.notify.delivery)."""

from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from app.account.models import User
from app.account.service import normalise_email
from app.newsletter import service
from app.newsletter.models import NewsletterSubscription
from app.personal_data import Holding, when
from app.ratelimit import service as ratelimit
from app.settings import Settings


def export_subscription(session: Session, *, user: User, base_url: str) -> dict[str, Any] | None:
    """The subscription of `user`'s address: {"email", "language", "status", "created_at",
    "confirmed_at"} (ISO 8601), or None when the address never subscribed or the account has
    not confirmed it is theirs (anyone can open an account with another person's address)."""
    subscription = service.find(session, user.email) if user.email_verified_at is not None else None
    if subscription is None:
        return None
    return {"email": subscription.email, "language": subscription.language, "status": subscription.status,
            "created_at": when(subscription.created_at), "confirmed_at": when(subscription.confirmed_at)}


def erase_subscription(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the subscription of the person's address (once they confirmed it is theirs), and
    any their account made, and the count of confirmation e-mails sent to that address (it
    names it). Returns no figure."""
    person = session.get(User, user_id)
    # The address's own subscription only when the account proved the address is theirs.
    owned = person is not None and person.email_verified_at is not None
    address = normalise_email(person.email) if person is not None and owned else ""
    session.execute(delete(NewsletterSubscription).where(or_(
        col(NewsletterSubscription.email) == address, col(NewsletterSubscription.user_id) == user_id)))
    if address:
        ratelimit.clear(session, service.address_key(address))  # the count of e-mails sent to it
    return {}


SUBSCRIPTION = Holding("newsletter_subscription", export=export_subscription, erase=erase_subscription)
