"""E-mails as large mailbox providers check them (issue 10, defects 17 and 18), read from a real
SMTP server: Date, Message-ID on BASE_URL's domain, From, To, Auto-Submitted, an escaped HTML
alternative, links on BASE_URL; List-Unsubscribe and its one-click POST on notifications only;
and the one-click POST, as providers send it (no cookies, no CSRF token), switches off exactly
that e-mail, while a forged token changes nothing."""

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from app import mail
from app.account.models import User
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea
from app.main import create_app
from app.moderation import notices
from app.notify import service as notify
from app.notify.models import NotificationKind
from app.vote.limits import CAME_BACK
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient, make_settings

BASE = "https://participation.example.be"
NASTY = 'Léa <script>alert("x")</script> & Cie'


@pytest.fixture
def https_mail(tmp_path: Path, database_url: str, smtp: SmtpSink) -> Iterator[WebClient]:
    app = create_app(make_settings(tmp_path / "var", database_url, base_url=BASE, smtp_url=smtp.url))
    with WebClient(app, base_url=BASE) as web:
        yield web


def _parts(message: Message) -> tuple[str, str]:
    assert isinstance(message, EmailMessage) or message.is_multipart(), message
    text = html = ""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        content = payload.decode(part.get_content_charset() or "utf-8")
        if part.get_content_type() == "text/plain":
            text = content
        elif part.get_content_type() == "text/html":
            html = content
    return text, html


def _send_every_kind(client: WebClient, session: Session) -> dict[str, str]:
    """One e-mail of each template, each to its own address; returns address -> template."""
    call = make_call(session, phase="results", title=f"Appel {NASTY}")
    people = {name: make_user(session, email=f"{name}@example.org", display_name=NASTY)
              for name in ("comment", "reply", "status", "results", "support", "report", "ban", "edited",
                           "assistant")}
    moderator = make_user(session, role="moderator", email="report@staff.example.org", display_name="Modération")
    idea = make_idea(session, call, people["status"], title=f"Idée {NASTY}")
    session.commit()
    with client.db.transaction() as tx:
        stored = tx.get(Idea, idea.id)
        actor = tx.get(User, moderator.id)
        assert stored is not None and actor is not None
        comment = Comment(idea_id=stored.id, author_id=people["reply"].id, body_md="x", body_html="<p>x</p>")
        tx.add(comment)
        tx.flush()
        targets = {k: tx.get(User, u.id) for k, u in people.items()}
        link = f"/ideas/{stored.id}"
        details = {NotificationKind.status: "accepted", NotificationKind.edited: notify.EDITED_BY_AUTHOR}
        for kind in (NotificationKind.comment, NotificationKind.reply, NotificationKind.status,
                     NotificationKind.results, NotificationKind.edited, NotificationKind.assistant):
            recipient = targets[kind.value]
            assert recipient is not None
            notify.notify(tx, client.settings, recipient=recipient, kind=kind, actor=actor, link=link,
                          subject=stored.title, detail=details.get(kind, ""), note=NASTY, idea_id=stored.id)
        assert notify.item_hidden(tx, client.settings, idea=stored, comment=comment) >= 1
        supporter = targets["support"]
        assert supporter is not None
        assert notify.support_set_aside(tx, client.settings, recipient=supporter, idea=stored, detail=CAME_BACK)
        banned = targets["ban"]
        assert banned is not None
        notices.account_banned(tx, user=banned, reason=NASTY)
    client.submit("/account/register", {"email": "verify@example.org", "display_name": NASTY,
                                        "password": "une phrase assez longue"})
    client.submit("/account/password/forgot", {"email": "status@example.org"})
    client.run_worker()
    return {"comment@example.org": "notify_comment", "reply@example.org": "notify_reply",
            "status@example.org": "password_reset", "results@example.org": "notify_results",
            "support@example.org": "notify_support",
            "report@staff.example.org": "notify_report", "ban@example.org": "moderation_ban",
            "verify@example.org": "verify_email", "edited@example.org": "notify_edited",
            "assistant@example.org": "notify_assistant"}


def test_every_email_carries_the_headers_and_parts_mailbox_providers_check(
        https_mail: WebClient, smtp: SmtpSink, session: Session) -> None:
    expected = _send_every_kind(https_mail, session)
    message_ids = set()
    for address, template in expected.items():
        message = smtp.last_to(address)
        notification = template.startswith("notify_")
        # RFC 5322: Date and Message-ID, on the platform's own domain.
        assert message["Date"], template
        sent = parsedate_to_datetime(message["Date"])
        assert abs((sent - utcnow()).total_seconds()) < 300
        assert re.fullmatch(r"<[^<>@\s]+@participation\.example\.be>", message["Message-ID"]), message["Message-ID"]
        message_ids.add(message["Message-ID"])
        assert message["From"] and message["To"] == address
        assert str(make_header(decode_header(message["Subject"])))
        assert message["Auto-Submitted"] == "auto-generated"  # RFC 3834: no auto-replies, please
        # RFC 3282: the language the text is written in (it was once dropped by set_content).
        assert message["Content-Language"] in ("fr", "nl", "de", "en"), template
        # RFC 2369 and 8058, on what people can switch off; never a mailto that nobody reads.
        if notification:
            unsubscribe = message["List-Unsubscribe"]
            assert re.fullmatch(rf"<{re.escape(BASE)}/notifications/unsubscribe/[^>\s]+/one-click>", unsubscribe)
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        else:
            assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None, template
        assert "mailto:" not in str(message.get("List-Unsubscribe", ""))

        text, html = _parts(message)
        assert message.get_content_type() == "multipart/alternative"
        assert text and html, template
        # User text: plain in the text part, escaped in the HTML part, never markup.
        assert NASTY in text, template
        assert "<script>" not in html and "&lt;script&gt;" in html, template
        assert html.lstrip().lower().startswith("<!doctype html>") and 'lang="fr"' in html
        hrefs = re.findall(r'href="([^"]+)"', html)
        assert hrefs or template == "moderation_ban", template
        assert all(h.startswith(BASE + "/") for h in hrefs), hrefs
        assert all(link.startswith(BASE + "/") for link in re.findall(r"https?://\S+", text)), text
        # Long words wrap on a phone (defect 11's kind, in e-mails).
        assert "overflow-wrap:anywhere" in html
    assert len(message_ids) == len(expected)


def test_a_retried_delivery_keeps_its_message_id(https_mail: WebClient) -> None:
    composed = mail.compose("verify_email", "fr", name="Inès", link=f"{BASE}/account/verify?token=t")
    payload = {"to": "ines@example.org", "subject": composed.subject, "body": composed.text,
               "html": composed.html, "message_id": "abc123"}
    first = mail.build_message(https_mail.settings, 7, payload)
    again = mail.build_message(https_mail.settings, 7, payload)
    assert first["Message-ID"] == again["Message-ID"] == "<abc123@participation.example.be>"


def test_one_click_unsubscribe_as_mailbox_providers_send_it(https_mail: WebClient, smtp: SmtpSink,
                                                           session: Session) -> None:
    call = make_call(session, phase="voting")
    follower = make_user(session, email="suiveuse@example.org")
    idea = make_idea(session, call, follower)
    session.commit()
    with https_mail.db.transaction() as tx:
        recipient = tx.get(User, follower.id)
        assert recipient is not None
        notify.notify(tx, https_mail.settings, recipient=recipient, kind=NotificationKind.comment, actor=None,
                      link=f"/ideas/{idea.id}", subject=idea.title, idea_id=idea.id)
    https_mail.run_worker()
    header = smtp.last_to("suiveuse@example.org")["List-Unsubscribe"]
    path = header.strip("<>").removeprefix(BASE)
    one_click = {"content": "List-Unsubscribe=One-Click",
                 "headers": {"content-type": "application/x-www-form-urlencoded"}}
    provider = WebClient(https_mail.app, base_url=BASE)  # a mailbox provider: no cookie, no CSRF token

    def prefs() -> dict[str, str]:
        session.expire_all()
        return {k: str(v) for k, v in notify.delivery_preferences(session, follower.id).items()}  # type: ignore[arg-type]

    # A forged or altered token is refused by the CSRF check, as any form without a token.
    token = path.split("/")[3]
    forged_token = notify.unsubscribe_token(make_settings(Path("/nonexistent"), "sqlite://", secret_key="other"),
                                            user_id=follower.id, kind="comment")  # type: ignore[arg-type]
    for bad in (path.replace(token, token[:-2] + ("xx" if not token.endswith("xx") else "yy")),
                f"/notifications/unsubscribe/{forged_token}/one-click"):
        refused = provider.post(bad, **one_click)  # type: ignore[arg-type]
        assert refused.status_code == 403, bad
    # The genuine address without the one-click body is not exempted either.
    assert provider.post(path, content="x=1", headers=one_click["headers"]).status_code == 403
    # Nor is the page's own unsubscribe button, which keeps its CSRF token.
    assert provider.post(path.removesuffix("/one-click"), **one_click).status_code == 403  # type: ignore[arg-type]
    assert set(prefs().values()) == {"immediate"}

    done = provider.post(path, **one_click)  # type: ignore[arg-type]
    assert done.status_code == 200
    assert prefs() == {**{k.value: "immediate" for k in NotificationKind}, "comment": "none"}
    assert "rv_session" not in " ".join(done.headers.get_list("set-cookie"))
    # Opening the address in a mail reader shows the page and changes nothing more.
    assert provider.get(path).status_code == 200
