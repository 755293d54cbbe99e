"""Atom feeds (RFC 4287) of a call: its newly published ideas, its official answers and its
results, newest first, at most `MAX_ENTRIES`. Public content only, read through
app.idea.queries.public_ideas: a hidden, draft, rejected or withdrawn idea is never in a feed.

Entry ids are absolute URLs that never change for one item (the idea's page, its answer
anchor, the call's results anchor). HTML content is the sanitised HTML stored at write time
(app.richtext), escaped once more by the XML writer as Atom's `type="html"` requires.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from markupsafe import escape
from sqlmodel import Session, col, select

from app import contentlang, links
from app.audit import AuditAction, AuditEntry, TargetType
from app.call.models import Call
from app.i18n import current_language, gettext
from app.idea.models import ANSWER_LABELS, Idea
from app.idea.queries import public_ideas, selected_ideas
from app.identity import service as identity_service
from app.settings import Settings
from app.share.previews import results_out

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
MAX_ENTRIES = 50

_ANSWER_LABELS = {str(status): label for status, label in ANSWER_LABELS.items()}

ET.register_namespace("", ATOM_NS)


@dataclass(frozen=True)
class Entry:
    """One feed entry: `id` and `link` absolute URLs, `html` safe HTML (escaped by the writer).
    `lang` is the entry's language when it is not the feed's (an idea written in Dutch): written
    as `xml:lang` (RFC 4287 section 2), so that readers and screen readers say it right; an
    answer not translated yet is marked inside its HTML (`<div lang>`), its label being the feed's."""

    id: str
    title: str
    link: str
    updated: datetime
    html: str
    author: str
    lang: str | None = None


def aware(value: datetime) -> datetime:
    """`value` as an aware UTC time: SQLite gives stored times back naive, and every stored time is UTC (app.clock)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _results_time(session: Session, call: Call) -> datetime:
    """When the results came out: the moderator's publication, else the phase's start by the clock."""
    published = session.exec(
        select(AuditEntry.created_at).where(AuditEntry.action == AuditAction.publish_results,
                                            AuditEntry.target_type == TargetType.call, AuditEntry.target_id == call.id)
        .order_by(col(AuditEntry.created_at).desc())
    ).first()
    return aware(published or call.results_start or call.updated_at)


def call_entries(session: Session, settings: Settings, call: Call) -> list[Entry]:
    """The entries of `call`'s feed, newest first, at most MAX_ENTRIES."""
    assert call.id is not None
    site = identity_service.current(session, settings).platform_name
    reader = current_language()
    entries: list[Entry] = []
    ideas = session.exec(public_ideas(call.id).limit(MAX_ENTRIES)).all()
    for idea in ideas:
        assert idea.id is not None
        url = settings.absolute_url(links.idea_path(idea.id))
        # A citizen's idea stays in the language it was written in (app.contentlang).
        entries.append(Entry(id=url, title=idea.title, link=url, updated=aware(idea.published_at or idea.created_at),
                             html=idea.body_html, author=site,
                             lang=idea.language if idea.language and idea.language != reader else None))
    answered = session.exec(
        public_ideas(call.id).where(col(Idea.answered_at).is_not(None), col(Idea.answer_status).is_not(None))
        .order_by(None).order_by(col(Idea.answered_at).desc(), col(Idea.id).desc()).limit(MAX_ENTRIES)
    ).all()
    for idea in answered:
        assert idea.id is not None and idea.answered_at is not None
        label = gettext(_ANSWER_LABELS[idea.answer_status]) if idea.answer_status in _ANSWER_LABELS else ""
        # The city's answer in the reader's language where it was translated, else as written.
        answer = contentlang.shown(idea, "answer_md", reader, kind="answer")
        if answer.foreign:
            html = f'<p><strong>{escape(label)}</strong></p><div lang="{escape(answer.lang)}">{answer.text}</div>'
        else:
            html = f"<p><strong>{escape(label)}</strong></p>{answer.text}"
        url = settings.absolute_url(links.idea_path(idea.id, "answer"))
        entries.append(Entry(id=url, title=gettext("Official answer: {title}", title=idea.title), link=url,
                             updated=aware(idea.answered_at), html=html, author=site))
    if results_out(call):
        winners = selected_ideas(session, call.id)
        if winners:
            items = "".join(
                f'<li><a href="{escape(settings.absolute_url(links.idea_path(w.id or 0)))}">{escape(w.title)}</a></li>'
                for w in winners)
            url = settings.absolute_url(links.call_path(call.slug) + "#results-title")
            entries.append(Entry(id=url, title=gettext("Results: {title}", title=contentlang.plain(call, "title")),
                                 link=url,
                                 updated=_results_time(session, call),
                                 html=f"<p>{escape(gettext('Selected ideas'))}</p><ul>{items}</ul>", author=site))
    entries.sort(key=lambda e: (e.updated, e.id), reverse=True)
    return entries[:MAX_ENTRIES]


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(value: datetime) -> str:
    return aware(value).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_document(settings: Settings, *, site: str, feed_id: str, title: str, subtitle: str, page: str,
                  entries: list[Entry], empty_updated: datetime) -> bytes:
    """An Atom document in the current language: `site` is the platform's name as the city set
    it (app.identity), the feed's author; `feed_id` is the feed's own absolute URL (its id and
    `self` link), `page` the HTML page it follows; `empty_updated` stands for the feed's time
    while it has no entry. UTF-8 bytes with an XML declaration."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: current_language()})
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    _text(feed, "subtitle", subtitle)
    updated = max(e.updated for e in entries) if entries else aware(empty_updated)
    _text(feed, "updated", _stamp(updated))
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "alternate", "type": "text/html", "href": page})
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "self", "type": "application/atom+xml", "href": feed_id})
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", site)
    _text(author, "uri", settings.absolute_url(links.path("page:home")))
    _text(feed, "generator", "Réinventons")
    for item in entries:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry", {XML_LANG: item.lang} if item.lang else {})
        _text(entry, "id", item.id)
        _text(entry, "title", item.title)
        _text(entry, "updated", _stamp(item.updated))
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "type": "text/html", "href": item.link})
        entry_author = ET.SubElement(entry, f"{{{ATOM_NS}}}author")
        _text(entry_author, "name", item.author)
        _text(entry, "content", item.html, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def call_feed(session: Session, settings: Settings, call: Call) -> bytes:
    """The Atom document of `call`'s feed, UTF-8 bytes with an XML declaration."""
    # The newest entry's time; a feed with no entry yet is as new as the call.
    title = contentlang.plain(call, "title")  # in the reader's language where translated
    return atom_document(
        settings, site=identity_service.current(session, settings).platform_name,
        feed_id=settings.absolute_url(links.path("share:call_feed", slug=call.slug)), title=title,
        subtitle=gettext("New ideas, official answers and results of “{call}”", call=title),
        page=settings.absolute_url(links.call_path(call.slug)), entries=call_entries(session, settings, call),
        empty_updated=call.updated_at)
