"""Driving the announcement pages as a moderator would."""

import re

from httpx import Response
from sqlmodel import Session, select

from app.account.models import User
from app.announce.models import Announcement, ChannelAccount
from app.announce.sealing import seal
from app.call.models import Call
from app.settings import Settings
from tests.factories import make_user
from tests.support import WebClient

TOKEN = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)"')


def token_in(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the form has no one-time token"
    return found.group(1)


def moderator(session: Session) -> User:
    return make_user(session, role="moderator")


def draft(client: WebClient, session: Session, call: Call | None, event: str, **extra: str) -> Announcement:
    """Start a draft through the new-announcement form; returns it."""
    token = token_in(client.get("/moderation/announcements").text)
    response = client.submit("/moderation/announcements",
                             {"event": event, "call_id": str(call.id) if call else "", "form_token": token, **extra})
    assert response.status_code == 303, response.text
    announcement_id = int(response.headers["location"].rsplit("/", 1)[1])
    session.expire_all()
    found = session.exec(select(Announcement).where(Announcement.id == announcement_id)).one()
    return found


def send(client: WebClient, announcement: Announcement, action: str, **fields: str) -> Response:
    """Send the compose form with the announcement's current texts, changed by `fields`."""
    page = client.get(f"/moderation/announcements/{announcement.id}")
    assert page.status_code == 200
    data = {f"text_{lang}": text for lang, text in announcement.texts.items()}
    data.update(link=announcement.link, action=action, form_token=token_in(page.text))
    data.update(fields)
    return client.submit(f"/moderation/announcements/{announcement.id}", data)


def add_channel(session: Session, settings: Settings, kind: str = "webhook", label: str = "Système de la ville", *,
                config: dict[str, str] | None = None, secrets: dict[str, str] | None = None) -> ChannelAccount:
    """An enabled channel as an administrator would have saved it (secrets sealed with the
    test settings' key). The default, a webhook to a closed port, never reaches anything."""
    channel = ChannelAccount(kind=kind, label=label, config=config or {"url": "http://127.0.0.1:9/hook"},
                             secrets_sealed=seal(settings, secrets or {"secret": "whsec_" + "A" * 32}))
    session.add(channel)
    session.commit()
    return channel
