"""Demonstration subscribers: one confirmed address per interface language, so that publishing
an announcement in the demonstration writes the newsletter in four languages to var/mail/."""

from sqlmodel import Session

from app.clock import utcnow
from app.demo_context import DemoContext
from app.newsletter.models import NewsletterSubscription, SubscriptionStatus
from app.settings import LANGUAGES

DEMO_SUBSCRIBERS = {lang: f"lettre-{lang}@example.org" for lang in LANGUAGES}


def seed_subscribers(session: Session, context: DemoContext) -> None:
    """One confirmed subscriber per language (addresses of the example.org documentation domain)."""
    for lang, email in DEMO_SUBSCRIBERS.items():
        session.add(NewsletterSubscription(email=email, language=lang, status=SubscriptionStatus.confirmed,
                                           confirmed_at=utcnow()))
    session.flush()
