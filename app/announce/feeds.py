"""The site-wide Atom feed of announcements: exactly the published ones, newest first, at most
`MAX_ENTRIES`, written by app.share.feeds. Each entry's id is the announcement's page (absolute,
never changing); its content is the text in the reader's language, escaped, with its link."""

from datetime import UTC, datetime

from markupsafe import escape
from sqlmodel import Session

from app import links
from app.announce import queries
from app.announce.models import Announcement
from app.i18n import current_language, gettext
from app.identity import service as identity_service
from app.settings import Settings
from app.share.feeds import CONTENT_TYPE, Entry, atom_document, aware

__all__ = ["CONTENT_TYPE", "entries", "excerpt", "feed", "html_of", "title_of"]

MAX_ENTRIES = 50
# The time an empty feed gives: a constant, so that readers do not see it change at each visit.
EMPTY_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
TITLE_LENGTH = 80


def excerpt(text: str, length: int) -> str:
    """`text` on one line, cut at a word within `length` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def title_of(text: str) -> str:
    """An entry's title: the text's first line, cut at a word within TITLE_LENGTH characters with an ellipsis."""
    return excerpt(text.strip().split("\n", 1)[0], TITLE_LENGTH)


def html_of(announcement: Announcement, text: str) -> str:
    """The announcement as safe HTML: its text escaped, paragraphs and line breaks kept, then its link."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    html = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    if announcement.link:
        html += f'<p><a href="{escape(announcement.link)}">{escape(announcement.link)}</a></p>'
    return html


def entries(session: Session, settings: Settings) -> list[Entry]:
    """The feed's entries in the current language, newest first."""
    lang = current_language()
    site = identity_service.current(session, settings).platform_name
    found = []
    for announcement in queries.published(session, limit=MAX_ENTRIES):
        assert announcement.id is not None and announcement.published_at is not None
        text = queries.text_for(announcement, lang)
        url = settings.absolute_url(links.path("announce:detail", announcement_id=announcement.id))
        found.append(Entry(id=url, title=title_of(text) or gettext("Announcement"), link=url,
                           updated=aware(announcement.published_at), html=html_of(announcement, text), author=site))
    return found


def feed(session: Session, settings: Settings) -> bytes:
    """The Atom document of the site's announcements, UTF-8 bytes with an XML declaration."""
    found = entries(session, settings)
    return atom_document(
        settings, site=identity_service.current(session, settings).platform_name,
        feed_id=settings.absolute_url(links.path("announce:feed")), title=gettext("Announcements"),
        subtitle=gettext("What the city announces about its calls for projects"),
        page=settings.absolute_url(links.path("announce:list")), entries=found,
        empty_updated=EMPTY_SINCE)
