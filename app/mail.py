"""E-mail: composed from templates in the recipient's language, queued in the outbox,
delivered by the worker to REINVENTONS_SMTP_URL or, without one, to files under var/mail/.

Each e-mail has a text part (`templates/emails/<name>.txt`, first line the subject) and an HTML
alternative drawn from the same text by `templates/emails/layout.html`, so both always say the
same thing; only our own links (the context's `link`, `unsubscribe`, `preferences`, and the
list `more_links` of an e-mail with several, a digest) become anchors, everything else is
escaped text. Headers follow what large mailbox providers check:
Date and Message-ID (RFC 5322, the id on BASE_URL's domain), Auto-Submitted (RFC 3834), and on
notifications, which people can switch off, List-Unsubscribe with its one-click POST
(RFC 2369, RFC 8058). Account e-mails (verification, password reset, suspension) have none:
nobody unsubscribes from those.

SMTP URLs: smtp://host:port (plain, or STARTTLS when the server offers it),
smtp+starttls://, smtps:// (implicit TLS); user:password@ in the URL for authentication.
"""

import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_
from sqlmodel import Session, select

from app import i18n
from app.clock import utcnow
from app.identity.models import CityIdentity
from app.outbox import service as outbox
from app.outbox.models import OutboxMessage, OutboxStatus
from app.settings import Settings
from app.web import env

EMAIL_KIND = "email"
# Context values that are links of ours, the only ones the HTML part turns into anchors; the
# context's MORE_LINKS is a list of more (a digest links to each of its notifications).
LINK_KEYS = ("link", "unsubscribe", "preferences")
MORE_LINKS = "more_links"
URL = re.compile(r"https?://\S+")
# Bodies are encoded at set time with the default 78-character lines; headers are folded when the
# message is written, and List-Unsubscribe's long URL must stay one unbroken <URL>, not
# RFC 2047-encoded words (which a mailbox provider cannot follow). RFC 5322 allows 998.
WRITING_POLICY = policy.default.clone(max_line_length=998)


@dataclass
class Composed:
    subject: str
    text: str
    html: str


def _pieces(line: str, links: set[str]) -> list[tuple[str, str]]:
    """A line of the text part as ("text", ...) and ("link", url) pieces."""
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in URL.finditer(line):
        if match.group(0) not in links:
            continue
        if match.start() > position:
            pieces.append(("text", line[position:match.start()]))
        pieces.append(("link", match.group(0)))
        position = match.end()
    if position < len(line):
        pieces.append(("text", line[position:]))
    return pieces


def compose(template: str, lang: str, *, signature: str = "", **context: Any) -> Composed:
    """Render templates/emails/<template>.txt (its first line is the subject) and its HTML
    alternative. User text in `context` (names, titles, notes) is plain text in the text part
    and escaped in the HTML part. `signature`, the platform's name as the city set it
    (app.identity), ends the message when given; the text names the platform as `platform`:
    the signature, else the product's name."""
    context.setdefault("platform", signature or DEFAULT_PLATFORM_NAME)
    with i18n.language(lang):
        text = env.get_template(f"emails/{template}.txt").render(**context)
        subject, _sep, body = text.partition("\n")
        subject, body = subject.strip(), body.lstrip("\n")
        if signature:
            body = f"{body.rstrip()}\n\n-- \n{signature}\n"
        links = {str(context[key]) for key in LINK_KEYS if context.get(key)}
        links.update(str(url) for url in context.get(MORE_LINKS) or ())
        paragraphs = [[_pieces(line, links) for line in block.split("\n")]
                      for block in re.split(r"\n\s*\n", body.strip("\n")) if block.strip()]
        html = env.get_template("emails/layout.html").render(subject=subject, paragraphs=paragraphs, lang=lang)
    return Composed(subject, body, html)


# The product's name, which e-mails say until administrators name the platform (app.identity).
DEFAULT_PLATFORM_NAME: str = Settings.model_fields["platform_name"].default


def platform_signature(session: Session) -> str:
    """The platform's name once administrators set the city's identity (app.identity), else "":
    the signature of every e-mail and its sender's name."""
    identity = session.get(CityIdentity, 1)
    return identity.platform_name if identity is not None else ""


def queue_email(session: Session, *, to: str, template: str, lang: str, user_id: int | None = None,
                dedupe_key: str | None = None, extra: dict[str, Any] | None = None, signature: str | None = None,
                **context: Any) -> None:
    """Queue an e-mail, composed now, in the caller's transaction. A context with an
    `unsubscribe` URL marks a notification: it gets the List-Unsubscribe headers (that URL's
    one-click address, see app.notify).

    `user_id` names the account it is written to: the worker checks at send time that the
    account still exists (app.notify.delivery), and an account deletion cancels it
    (`cancel_for_person`). `extra` holds JSON-ready facts a send-time check needs (a
    notification's id), blanked like the address and the text once the message is done.
    `signature`: `platform_signature(session)` when the caller read it already (many e-mails
    queued at once), read here otherwise.
    """
    platform_name = platform_signature(session) if signature is None else signature
    composed = compose(template, lang, signature=platform_name, **context)
    payload: dict[str, Any] = {
        "to": to, "subject": composed.subject, "body": composed.text, "html": composed.html, "lang": lang,
        "user_id": user_id,
        # Chosen once, so that a retried delivery carries the same Message-ID.
        "message_id": secrets.token_hex(16),
        outbox.REDACT_WHEN_DONE: ["to", "body", "html", "one_click", *(extra or {})],
    }
    if context.get("one_click"):
        payload["one_click"] = str(context["one_click"])
    if platform_name:
        payload["from_name"] = platform_name
    payload.update(extra or {})
    outbox.enqueue(session, EMAIL_KIND, payload, dedupe_key=dedupe_key)


def for_person(session: Session, *, user_id: int, address: str) -> list[OutboxMessage]:
    """Every e-mail row written to a person, by account id or (rows queued without one) by
    address, whatever its state. Reads the JSON payloads of e-mail rows: an erasure is rare."""
    by_id = OutboxMessage.payload["user_id"].as_integer() == user_id  # type: ignore[index]
    by_address = OutboxMessage.payload["to"].as_string() == address  # type: ignore[index]
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == EMAIL_KIND, or_(by_id, by_address))
                             .with_for_update()).all())


def cancel_for_person(session: Session, *, user_id: int, address: str) -> int:
    """An erasure: e-mails waiting for the person are cancelled, and no e-mail row keeps their
    address or the text written to them. Returns how many were still waiting."""
    waiting = 0
    for message in for_person(session, user_id=user_id, address=address):
        if message.status in (OutboxStatus.pending, OutboxStatus.running):
            waiting += 1
            outbox.cancel(session, message, "recipient deleted their account")
        else:
            # Sent or given up: blanked, including rows queued before the address was redacted.
            outbox.cancel(session, message, "")
            message.payload = {**message.payload, "to": "", "body": "", "html": ""}
    return waiting


def build_message(settings: Settings, message_id: int, payload: dict[str, Any]) -> EmailMessage:
    """The message for one outbox row. Headers: see the module docstring."""
    msg = EmailMessage()
    from_name = payload.get("from_name")
    # The sender's address is the settings'; its name the city's platform name when set.
    msg["From"] = formataddr((from_name, parseaddr(settings.mail_from)[1])) if from_name else settings.mail_from
    msg["To"] = payload["to"]
    msg["Subject"] = payload["subject"]
    msg["Date"] = format_datetime(utcnow())
    domain = urlsplit(settings.base_url).hostname or "reinventons.local"
    msg["Message-ID"] = f"<{payload.get('message_id') or f'outbox-{message_id}'}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    one_click = payload.get("one_click")
    if one_click:
        msg["List-Unsubscribe"] = f"<{one_click}>"
        if one_click.startswith("https://"):  # RFC 8058 one-click is for HTTPS addresses only
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(payload["body"])
    if payload.get("html"):
        msg.add_alternative(payload["html"], subtype="html")
    # After the body: set_content() drops every Content-* header set before it.
    msg["Content-Language"] = payload.get("lang", "fr")
    msg.policy = WRITING_POLICY
    return msg


def deliver(settings: Settings, message_id: int, payload: dict[str, Any]) -> None:
    msg = build_message(settings, message_id, payload)
    if not settings.smtp_url:
        folder: Path = settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message_id:08d}.eml").write_bytes(bytes(msg))
        return
    url = urlsplit(settings.smtp_url)
    host = url.hostname or "127.0.0.1"
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=30,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=30)
    with client:
        client.ehlo()
        if url.scheme == "smtp+starttls" or (url.scheme == "smtp" and client.has_extn("starttls")):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(msg)
