"""The legal and trust pages a Belgian public body must publish: privacy notice (GDPR arts. 13-14),
terms of use with the moderation charter, accessibility statement (EU Web Accessibility Directive
2016/2102, the model statement of Implementing Decision 2018/1523), and a contact page.

Each page exists in every interface language with a default text (app/pages/defaults/
`<kind>.<lang>.md`) that administrators replace on the administration's "Legal pages" section;
saving an empty text goes back to the default. The defaults state what the platform itself does
(what it keeps, for how long, what a person can do about it); the city completes who it is."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlmodel import Session, select

from app.account.models import User
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.pages.models import LegalPage
from app.richtext import render_markdown
from app.settings import LANGUAGES, Settings
from app.typography import french

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
MAX_LENGTH = 60_000  # characters of Markdown: the longest default is under 5,000

# kind -> (the page's title msgid, its route name); the order of the footer and of the admin list.
KINDS: dict[str, tuple[str, str]] = {
    "privacy": (N_("Privacy notice"), "page:privacy"),
    "terms": (N_("Terms of use and moderation charter"), "page:terms"),
    "accessibility": (N_("Accessibility statement"), "page:accessibility"),
    "contact": (N_("Contact"), "page:contact"),
}


@dataclass(frozen=True)
class LegalText:
    """A legal page as shown: its kind, language, sanitised HTML, the Markdown it comes from,
    whether it is the platform's default, and when an administrator last saved it (None for
    the default)."""

    kind: str
    lang: str
    html: str
    markdown: str
    is_default: bool
    updated_at: datetime | None


@cache
def default_markdown(kind: str, lang: str, session_days: int) -> str:
    """The default text of page `kind` in `lang` (Markdown), with the platform's own figures
    filled in (`session_days`, from the settings). Raises NotFound for an unknown pair."""
    if kind not in KINDS or lang not in LANGUAGES:
        raise NotFound()
    source = (DEFAULTS_DIR / f"{kind}.{lang}.md").read_text(encoding="utf-8")
    if lang == "fr":  # the platform's own words: French typography, as in the interface
        source = french(source)
    return source.replace("{session_days}", str(session_days))


@cache
def _default_html(kind: str, lang: str, session_days: int) -> str:
    return render_markdown(default_markdown(kind, lang, session_days), top_heading=2)


def text_of(session: Session, settings: Settings, kind: str, lang: str) -> LegalText:
    """Page `kind` in `lang` as visitors see it: the administrators' text, or the default.
    Raises NotFound for an unknown kind or language."""
    if kind not in KINDS or lang not in LANGUAGES:
        raise NotFound()
    row = session.exec(select(LegalPage).where(LegalPage.kind == kind, LegalPage.lang == lang)).first()
    if row is None or not row.body_md:
        days = settings.session_days
        return LegalText(kind, lang, _default_html(kind, lang, days), default_markdown(kind, lang, days), True, None)
    return LegalText(kind, lang, row.body_html, row.body_md, False, row.updated_at)


def save(session: Session, settings: Settings, *, actor: User, kind: str, lang: str, markdown: str) -> LegalPage:
    """Replace page `kind` in `lang` with `markdown` (an empty text, or the default itself, goes
    back to the default), audited. Raises NotFound for an unknown kind or language,
    ValidationFailed ("body_md") for a text over MAX_LENGTH characters."""
    if kind not in KINDS or lang not in LANGUAGES:
        raise NotFound()
    markdown = markdown.replace("\r\n", "\n").strip()
    if len(markdown) > MAX_LENGTH:
        raise ValidationFailed({"body_md": N_("The text is too long.")})
    if markdown == default_markdown(kind, lang, settings.session_days).strip():
        markdown = ""
    row = session.exec(select(LegalPage).where(LegalPage.kind == kind, LegalPage.lang == lang)
                       .with_for_update()).first()
    if row is None:
        row = LegalPage(kind=kind, lang=lang)
    row.body_md = markdown
    row.body_html = render_markdown(markdown, top_heading=2) if markdown else ""
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.add(row)
    session.flush()
    assert row.id is not None
    record(session, actor=actor, action=AuditAction.legal_page_save, target_type=TargetType.legal_page,
           target_id=row.id, details={"kind": kind, "lang": lang, "default": not markdown})
    return row


def overview(session: Session) -> list[tuple[str, str, dict[str, datetime | None]]]:
    """For the admin list: (kind, title msgid, {lang: when last saved, None while it is the default})."""
    saved = {(r.kind, r.lang): r.updated_at
             for r in session.exec(select(LegalPage).where(LegalPage.body_md != "")).all()}
    return [(kind, title, {lang: saved.get((kind, lang)) for lang in LANGUAGES})
            for kind, (title, _route) in KINDS.items()]
