"""From publication to mailboxes and city systems, through the real delivery queue: a moderator
publishes, the worker delivers to the newsletter channel (a real SMTP server receives one
e-mail per confirmed subscriber, in their language) and to a webhook (a real receiver on
loopback verifies the signature), once, however often the worker runs."""

from email.header import decode_header, make_header

from sqlmodel import Session, select

from app.announce import service
from app.announce.models import Announcement, Delivery
from app.clock import utcnow
from app.newsletter.models import NewsletterSubscription, SubscriptionStatus
from app.settings import Settings
from tests.announce.helpers import add_channel
from tests.announce.test_webhook import SECRET, Receiver, receiver  # noqa: F401 - the receiver fixture
from tests.factories import make_call, make_user
from tests.support import SmtpSink, WebClient, body_of


def test_a_publication_reaches_subscribers_and_the_webhook_once(mail_client: WebClient, smtp: SmtpSink,
                                                                session: Session, receiver: Receiver) -> None:  # noqa: F811
    settings: Settings = mail_client.settings
    add_channel(session, settings, "newsletter", "Lettre d’information", config={}, secrets={})
    add_channel(session, settings, "webhook", "Système de la ville", config={"url": receiver.url},
                secrets={"secret": SECRET})
    for email, language, status in (("fr@example.org", "fr", "confirmed"), ("nl@example.org", "nl", "confirmed"),
                                    ("pending@example.org", "nl", "pending")):
        session.add(NewsletterSubscription(email=email, language=language, status=status,
                                           confirmed_at=utcnow() if status == SubscriptionStatus.confirmed else None))
    session.commit()
    call = make_call(session, phase="results", slug="parcs")
    mod = make_user(session, role="moderator")
    announcement = Announcement(call_id=call.id, event="results_published", author_id=mod.id,
                                texts={"fr": "Les résultats sont publiés !", "nl": "De resultaten zijn er!"},
                                link=settings.absolute_url("/calls/parcs"))
    session.add(announcement)
    session.commit()
    service.publish(session, actor=mod, announcement=announcement, confirmed=True)
    session.commit()

    mail_client.run_worker()
    mail_client.run_worker()  # nothing more
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == ["fr@example.org", "nl@example.org"]
    nl = smtp.last_to("nl@example.org")
    assert str(make_header(decode_header(nl["Subject"]))) == "De resultaten zijn er!"
    assert body_of(nl).replace("\r\n", "\n").startswith("De resultaten zijn er!\n\nhttp://testserver/calls/parcs")
    assert nl["List-Unsubscribe"].startswith("<http://testserver/newsletter/unsubscribe/")
    [event] = receiver.deliveries
    assert event.error == "" and event.verified["type"] == "announcement.published"
    assert event.verified["data"]["announcement_id"] == announcement.id
    assert event.verified["data"]["texts"]["nl"].startswith("De resultaten zijn er!")
    session.expire_all()
    assert sorted(d.status for d in session.exec(select(Delivery)).all()) == ["sent", "sent"]
