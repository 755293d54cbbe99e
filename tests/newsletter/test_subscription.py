"""Subscribing to the announcements by e-mail, as a visitor, a mailbox and an attacker see it:
double opt-in through a real SMTP server, the link's page that confirms only with its button,
refused links (tampered, forged, expired, stale) with a clear message and nothing changed, the
same answer whatever the address's state, the rate limits, and a signed-in person's own
subscription."""

import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from sqlmodel import Session, select

from app import clock
from app.newsletter import service
from app.newsletter.models import NewsletterSubscription
from app.settings import Settings
from tests.factories import make_user
from tests.support import SmtpSink, WebClient, body_of, links_in, make_settings

BASE = "http://testserver"


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _status(session: Session, email: str) -> str | None:
    session.expire_all()
    row = session.exec(select(NewsletterSubscription).where(NewsletterSubscription.email == email)).first()
    return row.status if row is not None else None


def _confirm_path(smtp: SmtpSink, address: str) -> str:
    [link] = [link for link in links_in(smtp.last_to(address)) if "/newsletter/confirm/" in link]
    return link.removeprefix(BASE)


def test_subscribe_confirm_by_the_button_in_the_chosen_language(mail_client: WebClient, smtp: SmtpSink,
                                                                 session: Session) -> None:
    # The form is reachable from the announcements page and the footer, language preselected.
    listing = mail_client.get("/announcements?lang=nl")
    assert 'action="/newsletter"' in listing.text and 'href="/newsletter"' in listing.text
    form = mail_client.get("/newsletter")
    assert re.search(r'<option value="nl" selected>', form.text)

    answer = mail_client.submit("/newsletter", {"email": "  Ana.Lopez@Example.ORG ", "language": "de"})
    assert answer.status_code == 200 and "ana.lopez@example.org" in answer.text
    assert _status(session, "ana.lopez@example.org") == "pending"
    mail_client.run_worker()
    message = smtp.last_to("ana.lopez@example.org")
    assert subject(message) == "Bestätigen Sie Ihre Anmeldung für die Ankündigungen der Stadt"
    assert "48 Stunden" in body_of(message)
    assert message["List-Unsubscribe"] is None  # nothing to unsubscribe from yet

    path = _confirm_path(smtp, "ana.lopez@example.org")
    # A mail scanner following the link confirms nothing.
    page = WebClient(mail_client.app, base_url=BASE).get(path)
    assert page.status_code == 200 and "<form" in page.text
    assert _status(session, "ana.lopez@example.org") == "pending"
    # A POST without the page's CSRF token is refused.
    assert WebClient(mail_client.app, base_url=BASE).post(path).status_code == 403
    assert _status(session, "ana.lopez@example.org") == "pending"

    done = mail_client.submit(path)
    assert done.status_code == 200
    assert _status(session, "ana.lopez@example.org") == "confirmed"
    # The button pressed again (a double tap) is harmless.
    assert mail_client.submit(path).status_code == 200
    assert _status(session, "ana.lopez@example.org") == "confirmed"


def test_bad_links_are_refused_with_a_clear_message_and_change_nothing(mail_client: WebClient, smtp: SmtpSink,
                                                                        session: Session) -> None:
    mail_client.submit("/newsletter", {"email": "ben@example.org", "language": "fr"})
    mail_client.run_worker()
    path = _confirm_path(smtp, "ben@example.org")
    token = path.rsplit("/", 1)[1]
    row = session.exec(select(NewsletterSubscription)).one()
    other_key = make_settings(Path("/nonexistent"), "sqlite://", secret_key="someone-else")
    cases = {
        "tampered": path[:-3] + ("abc" if not path.endswith("abc") else "xyz"),
        "cut": path[:-10],
        "forged": f"/newsletter/confirm/{service.confirm_token(other_key, row)}",
        "garbage": "/newsletter/confirm/nothing-signed-here",
    }
    for name, bad in cases.items():
        for answer in (mail_client.get(bad), mail_client.submit(bad)):
            assert answer.status_code == 400, name
            assert "Ce lien de confirmation n’est pas valide" in answer.text, name
    assert _status(session, "ben@example.org") == "pending"

    with clock.travel(timedelta(hours=49)):
        for answer in (mail_client.get(path), mail_client.submit(path)):
            assert answer.status_code == 400
            assert "Ce lien de confirmation a expiré" in answer.text
        assert _status(session, "ben@example.org") == "pending"
    # In Dutch for a Dutch reader.
    nl = WebClient(mail_client.app, base_url=BASE)
    nl.get("/?lang=nl")
    with clock.travel(timedelta(hours=49)):
        assert "Deze bevestigingslink is verlopen" in nl.get(path).text

    # Unsubscribed since the link was sent: the old link does not subscribe again.
    with mail_client.db.transaction() as tx:
        found = tx.get(NewsletterSubscription, row.id)
        assert found is not None
        service.stop(tx, found)
    answer = mail_client.submit(path)
    assert answer.status_code == 400 and "n’est plus valide" in answer.text
    assert _status(session, "ben@example.org") == "unsubscribed"
    assert token  # the genuine token itself was never accepted after these changes


def test_the_same_answer_whatever_the_address(mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    # A confirmed address, a pending one, and a new one.
    mail_client.submit("/newsletter", {"email": "old@example.org", "language": "fr"})
    mail_client.submit("/newsletter", {"email": "waiting@example.org", "language": "fr"})
    mail_client.run_worker()
    mail_client.submit(_confirm_path(smtp, "old@example.org"))
    sent_before = len(smtp.messages)

    visitor = WebClient(mail_client.app, base_url=BASE)
    pages = {}
    for address in ("old@example.org", "waiting@example.org", "new@example.org"):
        answer = visitor.submit("/newsletter", {"email": address, "language": "fr"})
        assert answer.status_code == 200
        pages[address] = answer.text.replace(address, "ADDRESS")
    assert len(set(pages.values())) == 1
    mail_client.run_worker()
    # The owners are told, each in the way that fits: a new link, or "already subscribed".
    assert len(smtp.messages) == sent_before + 3
    already = smtp.last_to("old@example.org")
    assert subject(already) == "Vous recevez déjà les annonces de la ville"
    assert already["List-Unsubscribe"] is not None
    assert "/newsletter/confirm/" in body_of(smtp.last_to("waiting@example.org"))
    assert _status(session, "old@example.org") == "confirmed"

    # The confirmed address is told at most once a day, however often someone asks.
    visitor.submit("/newsletter", {"email": "old@example.org", "language": "nl"})
    mail_client.run_worker()
    assert len(smtp.to("old@example.org")) == 2  # the confirmation link, then one notice
    with clock.travel(timedelta(days=1, minutes=1)):
        visitor.submit("/newsletter", {"email": "old@example.org", "language": "fr"})
        mail_client.run_worker()
    assert len(smtp.to("old@example.org")) == 3
    # Nobody changed the confirmed subscription's language by asking.
    session.expire_all()
    assert service.find(session, "old@example.org").language == "fr"  # type: ignore[union-attr]


def test_subscribing_is_rate_limited_by_connection_and_by_address(mail_client: WebClient, smtp: SmtpSink,
                                                                  session: Session) -> None:
    limit, _window = service.PER_ADDRESS
    for _ in range(limit + 2):
        assert mail_client.submit("/newsletter", {"email": "target@example.org", "language": "fr"}).status_code == 200
    mail_client.run_worker()
    # Beyond the address's limit nothing more reaches it, and the visitor is not told.
    assert len(smtp.to("target@example.org")) == limit

    per_connection, _window = service.PER_CONNECTION
    for n in range(per_connection - limit - 2):
        assert mail_client.submit("/newsletter", {"email": f"p{n}@example.org", "language": "fr"}).status_code == 200
    refused = mail_client.submit("/newsletter", {"email": "one-more@example.org", "language": "fr"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Trop d’abonnements ont été demandés depuis votre connexion" in refused.text
    assert 'value="one-more@example.org"' in refused.text  # the form stays filled in
    assert _status(session, "one-more@example.org") is None


def test_invalid_input_is_answered_on_the_form(client: WebClient, session: Session) -> None:
    answer = client.submit("/newsletter", {"email": "not-an-address", "language": "xx"})
    assert answer.status_code == 422
    assert "Veuillez indiquer une adresse e-mail valable." in answer.text  # French by default
    assert 'aria-invalid="true"' in answer.text
    assert session.exec(select(NewsletterSubscription)).first() is None


def test_a_signed_in_person_manages_their_own_subscription(mail_client: WebClient, smtp: SmtpSink,
                                                           session: Session) -> None:
    person = make_user(session, email="chloe@example.org", language="nl")
    session.commit()
    mail_client.login_as(person)
    form = mail_client.get("/newsletter")
    assert 'value="chloe@example.org"' in form.text and '<option value="nl" selected>' in form.text
    # Their account's address is verified: no confirmation needed.
    done = mail_client.submit("/newsletter", {"email": "chloe@example.org", "language": "nl"})
    assert done.status_code == 303
    assert _status(session, "chloe@example.org") == "confirmed"
    assert service.find(session, "chloe@example.org").user_id == person.id  # type: ignore[union-attr]
    page = mail_client.get("/newsletter")
    assert "chloe@example.org" in page.text and 'name="action" value="unsubscribe"' in page.text

    assert mail_client.submit("/newsletter/mine", {"action": "language", "language": "de"}).status_code == 303
    session.expire_all()
    assert service.find(session, "chloe@example.org").language == "de"  # type: ignore[union-attr]
    assert mail_client.submit("/newsletter/mine", {"action": "language", "language": "xx"}).status_code == 422
    assert mail_client.submit("/newsletter/mine", {"action": "unsubscribe"}).status_code == 303
    assert _status(session, "chloe@example.org") == "unsubscribed"
    # Another address typed while signed in still needs its own confirmation.
    mail_client.submit("/newsletter", {"email": "someone-else@example.org", "language": "fr"})
    assert _status(session, "someone-else@example.org") == "pending"
    # Visitors cannot use the management form.
    assert WebClient(mail_client.app, base_url=BASE).post("/newsletter/mine").status_code in (303, 403)


def test_links_in_newsletter_e_mails_never_carry_the_address(client: WebClient, session: Session,
                                                             settings: Settings) -> None:
    """The confirmation and unsubscribe links carry a keyed digest, not the address: a link
    sits in every log of every server it passes through, and base64 is not a secret."""
    import base64 as b64

    subscription = NewsletterSubscription(email="marie.dupont@example.org", language="fr")
    session.add(subscription)
    session.commit()
    for url in (service.unsubscribe_url(settings, subscription),
                settings.absolute_url(f"/x/{service.confirm_token(settings, subscription)}")):
        token = url.rstrip("/").split("/")[-1] if "/one-click" not in url else url.split("/")[-2]
        payload = token.split(".")[0]
        decoded = b64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        assert b"marie" not in decoded and b"example.org" not in decoded and "marie" not in url
    # And the link still unsubscribes that subscription, not another one at the same id.
    assert service.unsubscribe(session, settings, service.unsubscribe_token(settings, subscription))
    session.commit()
    session.refresh(subscription)
    assert subscription.status == "unsubscribed"
