"""The newsletter channel, read from a real SMTP server: each confirmed subscriber gets one
e-mail in their language, nobody else any; a retry with the same key sends nothing more; the
e-mails carry List-Unsubscribe with its RFC 8058 one-click POST, which works without cookies;
an e-mail queued before an unsubscribe is not sent; and a person's export and erasure."""

from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.account import privacy as account_privacy
from app.account.models import User
from app.announce.channels import newsletter as newsletter_channel
from app.announce.channels.base import OutgoingPost, Rejected, RemoteRef
from app.clock import utcnow
from app.main import create_app
from app.newsletter import service
from app.newsletter.models import NewsletterSubscription, SubscriptionStatus
from app.outbox.models import OutboxMessage
from app.ratelimit import service as ratelimit
from app.ratelimit.models import RateLimitHit
from tests.factories import make_user
from tests.support import SmtpSink, WebClient, body_of, make_settings

BASE = "https://participation.example.be"
LINK = f"{BASE}/announcements/7"
POST = OutgoingPost(
    text=f"L’appel « Parcs » est ouvert.\n\n{LINK}", language="fr", link=LINK, title="Parcs",
    texts={"fr": f"L’appel « Parcs » est ouvert.\n\n{LINK}", "nl": f"De oproep „Parken” is open.\n\n{LINK}"},
    meta={"announcement_id": 7, "event": "call_opens"},
)


@pytest.fixture
def https_mail(tmp_path: Path, database_url: str, smtp: SmtpSink) -> Iterator[WebClient]:
    app = create_app(make_settings(tmp_path / "var", database_url, base_url=BASE, smtp_url=smtp.url))
    with WebClient(app, base_url=BASE) as web:
        yield web


def _subscribe(session: Session, email: str, language: str, status: str = SubscriptionStatus.confirmed,
               user_id: int | None = None) -> NewsletterSubscription:
    row = NewsletterSubscription(email=email, language=language, status=status, user_id=user_id,
                                 confirmed_at=utcnow() if status == SubscriptionStatus.confirmed else None)
    session.add(row)
    session.flush()
    return row


def _channel(client: WebClient) -> newsletter_channel.NewsletterChannel:
    return newsletter_channel.build({}, {}, settings=client.settings, db=client.db)


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_each_confirmed_subscriber_gets_one_email_in_their_language(https_mail: WebClient, smtp: SmtpSink,
                                                                    session: Session) -> None:
    _subscribe(session, "fr@example.org", "fr")
    _subscribe(session, "nl@example.org", "nl")
    _subscribe(session, "de@example.org", "de")  # no German text: the post's own text
    _subscribe(session, "pending@example.org", "fr", SubscriptionStatus.pending)
    _subscribe(session, "gone@example.org", "nl", SubscriptionStatus.unsubscribed)
    channel = _channel(https_mail)
    assert (channel.kind, channel.idempotent, channel.collects_replies) == ("newsletter", True, False)
    assert channel.check() == "3 confirmed subscribers"

    assert channel.post(POST, key="delivery-1") == RemoteRef(id="delivery-1")
    https_mail.run_worker()
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == ["de@example.org", "fr@example.org",
                                                                "nl@example.org"]
    nl = smtp.last_to("nl@example.org")
    assert _subject(nl) == "De oproep „Parken” is open."
    assert "De oproep „Parken” is open." in body_of(nl) and LINK in body_of(nl)
    assert "ingeschreven bent voor de aankondigingen" in body_of(nl)  # the footer in Dutch
    assert _subject(smtp.last_to("fr@example.org")) == "L’appel « Parcs » est ouvert."
    assert _subject(smtp.last_to("de@example.org")) == "L’appel « Parcs » est ouvert."
    assert "Ankündigungen der Stadt auf Réinventons abonniert" in body_of(smtp.last_to("de@example.org"))

    # The queue retries (a crash after the e-mails were queued): nothing more is sent.
    assert channel.post(POST, key="delivery-1") == RemoteRef(id="delivery-1")
    https_mail.run_worker()
    assert len(smtp.messages) == 3
    assert channel.find(POST, key="delivery-1") is None
    assert channel.replies(RemoteRef(id="delivery-1"), since=None) == []
    with pytest.raises(Rejected):
        channel.delete(RemoteRef(id="delivery-1"))
    # Another delivery is another e-mail.
    channel.post(POST, key="delivery-2")
    https_mail.run_worker()
    assert len(smtp.messages) == 6


def test_newsletter_emails_carry_one_click_unsubscribe_that_works_without_cookies(
        https_mail: WebClient, smtp: SmtpSink, session: Session) -> None:
    row = _subscribe(session, "reader@example.org", "fr")
    _channel(https_mail).post(POST, key="k1")
    https_mail.run_worker()
    message = smtp.last_to("reader@example.org")
    header = message["List-Unsubscribe"]
    assert header.startswith(f"<{BASE}/newsletter/unsubscribe/") and header.endswith("/one-click>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page_link = [line for line in body_of(message).splitlines() if "/newsletter/unsubscribe/" in line]
    assert page_link and not page_link[0].endswith("/one-click")

    path = header.strip("<>").removeprefix(BASE)
    one_click = {"content": "List-Unsubscribe=One-Click",
                 "headers": {"content-type": "application/x-www-form-urlencoded"}}
    provider = WebClient(https_mail.app, base_url=BASE)  # a mailbox provider: no cookie, no CSRF token
    token = path.split("/")[3]
    other = make_settings(Path("/nonexistent"), "sqlite://", secret_key="someone-else")
    for bad in (path.replace(token, token[:-2] + ("xx" if not token.endswith("xx") else "yy")),
                f"/newsletter/unsubscribe/{service.unsubscribe_token(other, row)}/one-click"):
        assert provider.post(bad, **one_click).status_code == 403, bad  # type: ignore[arg-type]
    assert provider.post(path, content="x=1", headers=one_click["headers"]).status_code == 403
    assert provider.post(path.removesuffix("/one-click"), **one_click).status_code == 403  # type: ignore[arg-type]
    # Opening the address (a mail reader without RFC 8058) shows the button and changes nothing.
    opened = provider.get(path)
    assert opened.status_code == 200 and "<form" in opened.text
    session.expire_all()
    assert session.get(NewsletterSubscription, row.id).status == "confirmed"  # type: ignore[union-attr]

    done = provider.post(path, **one_click)  # type: ignore[arg-type]
    assert done.status_code == 200
    session.expire_all()
    assert session.get(NewsletterSubscription, row.id).status == "unsubscribed"  # type: ignore[union-attr]
    assert provider.post(path, **one_click).status_code == 200  # again: still done  # type: ignore[arg-type]
    _channel(https_mail).post(POST, key="k2")
    https_mail.run_worker()
    assert len(smtp.to("reader@example.org")) == 1


def test_the_unsubscribe_page_needs_its_button(https_mail: WebClient, session: Session) -> None:
    row = _subscribe(session, "reader@example.org", "fr")
    path = service.unsubscribe_url(https_mail.settings, row).removeprefix(BASE)
    assert https_mail.get(path).status_code == 200
    session.expire_all()
    assert session.get(NewsletterSubscription, row.id).status == "confirmed"  # type: ignore[union-attr]
    bad = https_mail.submit(path[:-4] + "AAAA")
    assert bad.status_code == 400 and "Ce lien de désabonnement n’est pas valide" in bad.text
    assert https_mail.submit(path).status_code == 200
    session.expire_all()
    assert session.get(NewsletterSubscription, row.id).status == "unsubscribed"  # type: ignore[union-attr]


def test_an_email_queued_before_an_unsubscribe_is_not_sent(https_mail: WebClient, smtp: SmtpSink,
                                                           session: Session) -> None:
    row = _subscribe(session, "late@example.org", "fr")
    _channel(https_mail).post(POST, key="k1")
    assert https_mail.submit(service.unsubscribe_url(https_mail.settings, row).removeprefix(BASE)).status_code == 200
    https_mail.run_worker()
    assert smtp.to("late@example.org") == []
    [queued] = session.exec(select(OutboxMessage)).all()
    assert queued.status == "cancelled" and queued.payload.get("to") in ("", None)


def test_export_and_erasure(https_mail: WebClient, session: Session) -> None:
    person = make_user(session, email="eve@example.org", password="a long enough passphrase 42")
    other = make_user(session, email="other@example.org")
    _subscribe(session, "eve@example.org", "nl")
    _subscribe(session, "other@example.org", "fr")
    ratelimit.record(session, service.address_key("eve@example.org"))
    session.commit()
    with https_mail.db.transaction() as tx:
        user = tx.get(User, person.id)
        assert user is not None
        exported = account_privacy.export_data(tx, https_mail.settings, user)
    section = exported["newsletter_subscription"]
    assert section["email"] == "eve@example.org" and section["language"] == "nl"
    assert section["status"] == "confirmed" and section["confirmed_at"]
    with https_mail.db.transaction() as tx:
        other_user = tx.get(User, other.id)
        assert other_user is not None
        assert account_privacy.export_data(tx, https_mail.settings, other_user)["newsletter_subscription"]["email"] \
            == "other@example.org"

    with https_mail.db.transaction() as tx:
        user = tx.get(User, person.id)
        assert user is not None
        account_privacy.delete_account(tx, https_mail.settings, user, password="a long enough passphrase 42")
    session.expire_all()
    assert [s.email for s in session.exec(select(NewsletterSubscription)).all()] == ["other@example.org"]
    assert "eve@example.org" not in " ".join(session.exec(select(RateLimitHit.key)).all())
