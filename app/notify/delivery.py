"""The worker's e-mail handler: every e-mail is checked again just before it is sent.

An e-mail is queued in the transaction of its cause and sent later. Meanwhile its recipient may
have deleted their account (the address may even belong to someone new by then), been
suspended, or switched that kind of e-mail off; the idea or comment it tells of may have been
hidden; the person who acted may have left. So, at send time:

- an e-mail written to an account (`user_id` in its payload) is cancelled if the account is gone;
- a newsletter e-mail (`newsletter_subscription_id`) is cancelled unless its subscription is
  still confirmed for that address (app.newsletter.service.still_confirmed);
- a notification e-mail (`notification_id`) is cancelled unless its notification still exists,
  its recipient is active and verified and still wants that kind of e-mail, and may still see
  what it tells of (app.notify.views); a digest (`notification_ids`) keeps only such
  notifications, and is cancelled when none is left;
- an e-mail to a resident whose idea staff entered (`intake_id`) is cancelled once staff
  erased their address (app.intake.notices.still_wanted);
- a change of address's confirmation (`email_change_token_id`) gets its link's token only now,
  so that no raw token is ever stored (app.account.selfservice.with_fresh_link);
- what is sent is then composed anew from what is true now (current titles, the actor's current
  name, "Former member" once they left), to the account's current address.

A deletion that commits between this check and the SMTP exchange is the one window left; the
erasure cancels what is still queued (app.mail.cancel_for_person), so it closes on its own.
"""

from typing import Any

from sqlmodel import Session

from app import authz, mail
from app.account import selfservice
from app.account.models import User
from app.db import Database
from app.intake import notices as intake_notices
from app.newsletter import service as newsletter
from app.notify import digest, service
from app.notify.models import EmailDelivery, Notification
from app.notify.views import views
from app.outbox.service import Cancelled
from app.settings import Settings


def deliver_email(settings: Settings, db: Database, message_id: int, payload: dict[str, Any]) -> None:
    """Check the e-mail again (`checked`), then hand it to app.mail.deliver. Raises Cancelled
    when it must not go any more, or what delivery raises (retried by the outbox)."""
    with db.session() as session:
        payload = checked(session, settings, payload)
    if payload.get(selfservice.CONFIRMATION_KEY):
        # A change of address: its link is made now, and only its hash written (app.account.selfservice).
        with db.transaction() as session:
            payload = selfservice.with_fresh_link(session, settings, payload)
    mail.deliver(settings, message_id, payload)


def checked(session: Session, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload to send now, composed anew for a notification or a digest; raises Cancelled
    (with the reason, in English for admins) when the e-mail must not be sent. See the module
    docstring."""
    subscription_id = payload.get(newsletter.SUBSCRIPTION_KEY)
    if subscription_id is not None:
        if not newsletter.still_confirmed(session, int(subscription_id), str(payload.get("to") or "")):
            raise Cancelled("unsubscribed from the newsletter")
        return payload
    if payload.get(intake_notices.INTAKE_KEY) is not None:
        if not intake_notices.still_wanted(session, payload):
            raise Cancelled("the resident's address was erased")
        return payload
    user_id = payload.get("user_id")
    if user_id is None:
        return payload  # not written to an account (or queued before accounts were named)
    person = session.get(User, user_id)
    if person is None or person.deleted_at is not None:
        raise Cancelled("recipient deleted their account")
    if payload.get("notification_id"):
        composed = _notification(session, settings, person, int(payload["notification_id"]),
                                 note=str(payload.get("note") or ""))
    elif payload.get("notification_ids"):
        if not authz.is_verified(person):
            raise Cancelled("recipient suspended or not verified")
        composed = digest.recompose(session, settings, person, notification_ids=list(payload["notification_ids"]),
                                    cadence=str(payload.get("cadence") or ""))
    else:
        return payload  # an account e-mail (verification, reset, suspension notice)
    return {**payload, "to": person.email, "subject": composed.subject, "body": composed.text,
            "html": composed.html}


def _notification(session: Session, settings: Settings, person: User, notification_id: int, *,
                  note: str) -> mail.Composed:
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != person.id:
        raise Cancelled("notification no longer exists")
    if not authz.is_verified(person):
        raise Cancelled("recipient suspended or not verified")
    if service.delivery_preferences(session, person.id or 0)[row.kind] == EmailDelivery.none:
        raise Cancelled("recipient switched these e-mails off")
    [view] = views(session, person, [row])
    if not view.available:
        raise Cancelled("what it tells of is no longer visible to the recipient")
    return mail.compose(f"notify_{row.kind}", person.language, signature=mail.platform_signature(session),
                        **service.email_context(settings, recipient=person, view=view, note=note))
