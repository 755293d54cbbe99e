"""The newsletter: citizens receive the city's announcements by e-mail, in their language.

Double opt-in: subscribing records the address as pending and e-mails it a signed link that
expires (`CONFIRM_TTL`); the link opens a page whose button confirms (mail scanners follow
links, they do not press buttons). Whatever the address's state (new, pending, confirmed,
unsubscribed), the visitor sees the same answer, so nobody learns whether an address is
subscribed: a pending or unsubscribed address gets a new confirmation link, a confirmed one a
short notice that it already is, at most once a day (`NOTICE_EVERY`). Subscribing is limited per
connection (`PER_CONNECTION`, refused with a message) and per address (`PER_ADDRESS`: beyond it
nothing more is sent, silently, since saying so would tell that someone asked).

Every e-mail about a confirmed subscription carries a signed unsubscribe link that never
expires and works without signing in, with its RFC 8058 one-click address
(List-Unsubscribe-Post). A signed-in person whose account address is subscribed manages the
subscription on the newsletter page (language, unsubscribe). The worker checks at send time that
the subscription is still confirmed (`still_confirmed`, app.notify.delivery).
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import links, mail
from app.account.models import User
from app.account.service import EMAIL_RE, normalise_email
from app.clock import utcnow
from app.errors import RateLimited, ValidationFailed
from app.i18n import N_
from app.newsletter.models import NewsletterSubscription, SubscriptionStatus
from app.outbox.models import OutboxMessage
from app.ratelimit import service as ratelimit
from app.settings import LANGUAGES, Settings

CONFIRM_SALT = "newsletter-confirm"
UNSUBSCRIBE_SALT = "newsletter-unsubscribe"
CONFIRM_TTL = timedelta(hours=48)
NOTICE_EVERY = timedelta(days=1)
# (how many, per window)
PER_CONNECTION = (10, timedelta(hours=1))
PER_ADDRESS = (3, timedelta(days=1))
# The key of the outbox payload naming the subscription an e-mail is written to (checked at send time).
SUBSCRIPTION_KEY = "newsletter_subscription_id"

TOO_FAST = N_("Too many subscriptions were asked from your connection. Please try again later.")
INVALID_LINK = N_("This confirmation link is not valid: it may have been cut or changed. "
                  "Use the complete link from the e-mail, or subscribe again.")
EXPIRED_LINK = N_("This confirmation link has expired. Subscribe again to receive a new one.")
STALE_LINK = N_("This confirmation link is no longer valid. Subscribe again to receive a new one.")


@dataclass(frozen=True)
class SubscribeResult:
    """What `subscribe` did: `confirmed_now` when a signed-in person subscribed the verified
    address of their own account (no confirmation needed). Anything else is not told."""

    confirmed_now: bool = False


# --- Signed links ------------------------------------------------------------------------------

def _serializer(settings: Settings, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key, salt=salt)


def address_digest(settings: Settings, email: str) -> str:
    """A keyed digest of an address (HMAC-SHA256 under the platform's secret, 22 characters):
    what links carry instead of the address itself, which would otherwise sit, merely base64
    encoded, in every log of every server the link passes through."""
    mac = hmac.new(settings.resolved_secret_key.encode(), b"newsletter-address:" + email.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:22]


def _digest_of(settings: Settings, data: dict[str, Any]) -> str | None:
    """The address digest a token carries ("h"), or the one of the address an older token
    carried in clear ("e"), so that links already sent keep working."""
    if isinstance(data.get("h"), str):
        return str(data["h"])
    if isinstance(data.get("e"), str):
        return address_digest(settings, str(data["e"]))
    return None


def confirm_token(settings: Settings, subscription: NewsletterSubscription) -> str:
    """A signed token naming one subscription, a digest of its address and when it was issued
    (app.clock, seconds); valid CONFIRM_TTL."""
    return _serializer(settings, CONFIRM_SALT).dumps(
        {"s": subscription.id, "h": address_digest(settings, subscription.email), "t": int(utcnow().timestamp())})


def read_confirm_token(settings: Settings, token: str) -> tuple[int, str]:
    """(subscription id, address digest) from a genuine, unexpired confirmation token. Raises
    ValidationFailed({"token": ...}) saying whether it was forged, altered or cut (INVALID_LINK)
    or is older than CONFIRM_TTL (EXPIRED_LINK)."""
    invalid = ValidationFailed({"token": INVALID_LINK})
    if not token or len(token) > 400:
        raise invalid
    try:
        data = _serializer(settings, CONFIRM_SALT).loads(token)
    except BadSignature as exc:
        raise invalid from exc
    if not isinstance(data, dict):
        raise invalid
    sub_id, digest, issued = data.get("s"), _digest_of(settings, data), data.get("t")
    if not isinstance(sub_id, int) or digest is None or not isinstance(issued, int):
        raise invalid
    if utcnow() - datetime.fromtimestamp(issued, UTC) > CONFIRM_TTL:
        raise ValidationFailed({"token": EXPIRED_LINK})
    return sub_id, digest


def unsubscribe_token(settings: Settings, subscription: NewsletterSubscription) -> str:
    """A signed token naming one subscription and a digest of its address; it does not expire
    (an old e-mail's link must still work)."""
    return _serializer(settings, UNSUBSCRIBE_SALT).dumps(
        {"s": subscription.id, "h": address_digest(settings, subscription.email)})


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, str] | None:
    """(subscription id, address digest) from a genuine unsubscribe token; None if it was
    forged, altered or malformed."""
    if not token or len(token) > 400:
        return None
    try:
        data = _serializer(settings, UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    sub_id, digest = data.get("s"), _digest_of(settings, data)
    if not isinstance(sub_id, int) or digest is None:
        return None
    return sub_id, digest


def unsubscribe_url(settings: Settings, subscription: NewsletterSubscription) -> str:
    """The page, linked from the e-mail's text, whose button unsubscribes (absolute URL)."""
    return settings.absolute_url(links.path("newsletter:unsubscribe_form",
                                            token=unsubscribe_token(settings, subscription)))


def one_click_url(settings: Settings, subscription: NewsletterSubscription) -> str:
    """The List-Unsubscribe address: mailbox providers POST `List-Unsubscribe=One-Click` to it
    (RFC 8058), without cookies; a GET shows the page with the button (absolute URL)."""
    return settings.absolute_url(links.path("newsletter:one_click",
                                            token=unsubscribe_token(settings, subscription)))


# --- Subscribing -------------------------------------------------------------------------------

def find(session: Session, email: str, *, for_update: bool = False) -> NewsletterSubscription | None:
    """The subscription of an address (normalised here), or None."""
    query = select(NewsletterSubscription).where(NewsletterSubscription.email == normalise_email(email))
    return session.exec(query.with_for_update() if for_update else query).first()


def subscribe(session: Session, settings: Settings, *, email: str, language: str, client_ip: str,
              user: User | None = None) -> SubscribeResult:
    """Ask for `email` to receive the announcements in `language` (app.settings.LANGUAGES).
    Queues a confirmation e-mail, or the "already subscribed" notice (see the module docstring).
    A signed-in `user` subscribing the verified address of their account is confirmed at once.
    Raises ValidationFailed with `email` (not an address) or `language` (not offered), and
    RateLimited when this connection asked too often (PER_CONNECTION)."""
    email = normalise_email(email)
    errors = {}
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = N_("Please enter a valid e-mail address.")
    if language not in LANGUAGES:
        errors["language"] = N_("Choose the language of the e-mails.")
    if errors:
        raise ValidationFailed(errors)
    limit, window = PER_CONNECTION
    ratelimit.check(session, f"newsletter:ip:{client_ip}", limit=limit, window=window, message=TOO_FAST)
    ratelimit.record(session, f"newsletter:ip:{client_ip}")

    own = user is not None and user.email == email and user.email_verified_at is not None
    subscription = find(session, email, for_update=True) or _create(session, email, language)
    if own and user is not None:
        subscription.user_id = user.id
        if subscription.status != SubscriptionStatus.confirmed:
            subscription.status, subscription.confirmed_at = SubscriptionStatus.confirmed, utcnow()
        subscription.language = language
        session.add(subscription)
        return SubscribeResult(confirmed_now=True)

    limit, window = PER_ADDRESS
    try:
        ratelimit.check(session, address_key(email), limit=limit, window=window)
    except RateLimited:
        return SubscribeResult()  # enough was sent to this address today; the visitor is not told
    ratelimit.record(session, address_key(email))

    if subscription.status == SubscriptionStatus.confirmed:
        if subscription.notice_sent_at is None or utcnow() - subscription.notice_sent_at >= NOTICE_EVERY:
            subscription.notice_sent_at = utcnow()
            session.add(subscription)
            _queue(session, settings, subscription, "newsletter_already",
                   link=settings.absolute_url(links.path("announce:list")))
        return SubscribeResult()
    # New, pending (the first e-mail lost) or unsubscribed: a new confirmation link, in the
    # language asked now.
    subscription.status, subscription.language = SubscriptionStatus.pending, language
    session.add(subscription)
    session.flush()
    mail.queue_email(session, to=subscription.email, template="newsletter_confirm", lang=subscription.language,
                     link=settings.absolute_url(links.path("newsletter:confirm_form",
                                                           token=confirm_token(settings, subscription))),
                     hours=int(CONFIRM_TTL.total_seconds() // 3600))
    return SubscribeResult()


def address_key(email: str) -> str:
    """The rate-limit key counting what was sent to a (normalised) address (PER_ADDRESS)."""
    return f"newsletter:address:{email}"


def _create(session: Session, email: str, language: str) -> NewsletterSubscription:
    try:
        # In a savepoint: of two requests subscribing one new address at once, the unique index
        # refuses the second, which then works on the first one's row.
        with session.begin_nested():
            subscription = NewsletterSubscription(email=email, language=language)
            session.add(subscription)
            session.flush()
        return subscription
    except IntegrityError:
        found = find(session, email, for_update=True)
        assert found is not None
        return found


def _queue(session: Session, settings: Settings, subscription: NewsletterSubscription, template: str, *,
           dedupe_key: str | None = None, **context: Any) -> None:
    """Queue a newsletter e-mail to a confirmed subscription, with its unsubscribe links and
    List-Unsubscribe headers, checked again at send time (SUBSCRIPTION_KEY)."""
    mail.queue_email(session, to=subscription.email, template=template, lang=subscription.language,
                     dedupe_key=dedupe_key, extra={SUBSCRIPTION_KEY: subscription.id},
                     unsubscribe=unsubscribe_url(settings, subscription),
                     one_click=one_click_url(settings, subscription), **context)


def pending_confirmation(session: Session, settings: Settings, token: str) -> NewsletterSubscription:
    """The subscription a confirmation link names, pending or already confirmed, without
    changing anything (the page with the button). Raises ValidationFailed({"token": ...}):
    INVALID_LINK, EXPIRED_LINK, or STALE_LINK when the subscription is gone, unsubscribed since,
    or now belongs to another address."""
    sub_id, digest = read_confirm_token(settings, token)
    subscription = session.get(NewsletterSubscription, sub_id)
    if (subscription is None or address_digest(settings, subscription.email) != digest
            or subscription.status == SubscriptionStatus.unsubscribed):
        raise ValidationFailed({"token": STALE_LINK})
    return subscription


def confirm(session: Session, settings: Settings, token: str) -> NewsletterSubscription:
    """Confirm the subscription a confirmation link names (already confirmed: unchanged).
    Raises ValidationFailed({"token": ...}) like `pending_confirmation`, nothing changed."""
    subscription = pending_confirmation(session, settings, token)
    session.refresh(subscription, with_for_update=True)
    if subscription.status == SubscriptionStatus.pending:
        subscription.status, subscription.confirmed_at = SubscriptionStatus.confirmed, utcnow()
        session.add(subscription)
    return subscription


# --- Unsubscribing and managing ----------------------------------------------------------------

def unsubscribe(session: Session, settings: Settings, token: str) -> bool:
    """Unsubscribe the subscription an unsubscribe link names. Returns False for a forged or
    altered token (nothing changed); True otherwise, also when it was already unsubscribed or no
    longer exists (an old e-mail's link)."""
    found = read_unsubscribe_token(settings, token)
    if found is None:
        return False
    sub_id, digest = found
    subscription = session.get(NewsletterSubscription, sub_id, with_for_update=True)
    if subscription is not None and address_digest(settings, subscription.email) == digest:
        stop(session, subscription)
    return True


def stop(session: Session, subscription: NewsletterSubscription) -> None:
    """Mark a subscription unsubscribed: nothing more is sent to it, e-mails already queued
    included (checked at send time)."""
    subscription.status = SubscriptionStatus.unsubscribed
    session.add(subscription)


def set_language(session: Session, subscription: NewsletterSubscription, language: str) -> None:
    """Change the language of a subscription's e-mails. Raises ValidationFailed with `language`
    for a language the platform does not offer."""
    if language not in LANGUAGES:
        raise ValidationFailed({"language": N_("Choose the language of the e-mails.")})
    subscription.language = language
    session.add(subscription)


def still_confirmed(session: Session, subscription_id: int, address: str) -> bool:
    """Whether the subscription an e-mail was queued for is still confirmed, for that address
    (the worker's check just before sending)."""
    subscription = session.get(NewsletterSubscription, subscription_id)
    return (subscription is not None and subscription.email == address
            and subscription.status == SubscriptionStatus.confirmed)


def confirmed(session: Session) -> list[NewsletterSubscription]:
    """Every confirmed subscription, oldest first (the channel writes to each)."""
    return list(session.exec(select(NewsletterSubscription)
                             .where(NewsletterSubscription.status == SubscriptionStatus.confirmed)
                             .order_by(col(NewsletterSubscription.id))).all())


def confirmed_count(session: Session) -> int:
    """How many subscriptions are confirmed."""
    return int(session.exec(select(func.count()).select_from(NewsletterSubscription)
                            .where(NewsletterSubscription.status == SubscriptionStatus.confirmed)).one())


def queue_announcement(session: Session, settings: Settings, subscription: NewsletterSubscription, *,
                       key: str, text: str, link: str) -> bool:
    """Queue one announcement e-mail to a confirmed subscription: `text` (plain text in the
    subscription's language, already ending with `link` when there is one), the subject its
    first line. Deduplicated by `key` (the delivery's) and the subscription: queued at most once
    however often it is called. Returns whether it was queued now."""
    dedupe_key = f"newsletter:{key}:{subscription.id}"
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first() is not None:
        return False
    first_line = text.strip().split("\n", 1)[0].strip()
    subject = first_line if len(first_line) <= 90 else first_line[:89].rstrip() + "…"
    _queue(session, settings, subscription, "newsletter_announcement", dedupe_key=dedupe_key,
           subject=subject, text=text.strip(), link=link)
    return True
