"""E-mail: composed from templates in the recipient's language, queued in the outbox,
delivered by the worker to REINVENTONS_SMTP_URL or, without one, to files under var/mail/.

SMTP URLs: smtp://host:port (plain, or STARTTLS when the server offers it),
smtp+starttls://, smtps:// (implicit TLS); user:password@ in the URL for authentication.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlmodel import Session

from app import i18n
from app.outbox import service as outbox
from app.settings import Settings
from app.web import env

EMAIL_KIND = "email"


def compose(template: str, lang: str, **context: Any) -> tuple[str, str]:
    """Render templates/emails/<template>.txt; its first line is the subject."""
    with i18n.language(lang):
        text = env.get_template(f"emails/{template}.txt").render(**context)
    subject, _sep, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def queue_email(session: Session, *, to: str, template: str, lang: str,
                dedupe_key: str | None = None, **context: Any) -> None:
    subject, body = compose(template, lang, **context)
    payload = {"to": to, "subject": subject, "body": body, "lang": lang, outbox.REDACT_WHEN_DONE: ["body"]}
    outbox.enqueue(session, EMAIL_KIND, payload, dedupe_key=dedupe_key)


def build_message(settings: Settings, message_id: int, payload: dict[str, Any]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = payload["to"]
    msg["Subject"] = payload["subject"]
    msg["Content-Language"] = payload.get("lang", "fr")
    # A stable Message-ID per outbox row lets receiving servers drop a duplicate retry.
    domain = urlsplit(settings.base_url).hostname or "reinventons.local"
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{message_id}", domain=domain)
    msg.set_content(payload["body"])
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
