"""The legal and trust pages a Belgian public body must publish: privacy notice (GDPR arts. 13-14),
terms of use with the moderation charter, accessibility statement (EU Web Accessibility Directive
2016/2102, the model statement of Implementing Decision 2018/1523), and a contact page.

Each page exists in every interface language with a default text (app/pages/defaults/
`<kind>.<lang>.md`) that administrators replace on the administration's "Legal pages" section;
saving an empty text goes back to the default. The defaults state what the platform itself does
(what it keeps, for how long, what a person can do about it); the city completes who it is.

The city writes its own text in one original language, the platform's default language
(`Settings.default_language`); the other languages are its translations. A visitor reads their
language's text when the city wrote one; otherwise, once the city has written the original,
the original (marked "Original in French", with its `lang`), since the platform's default in
their language would not say what the city wrote. A translation records a fingerprint of the
original it was made from, so one saved before the original last changed is out of date."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlmodel import Session, select

from app.account.models import User
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.contentlang import fingerprint
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
    """A legal page as shown: its kind, the language asked for (`lang`), sanitised HTML, the
    Markdown it comes from, whether it is the platform's default, when an administrator last
    saved it (None for the default), the language of the text (`text_lang`: the original's
    when the asked language has no text of the city's), and whether it is a translation
    older than its original (`out_of_date`)."""

    kind: str
    lang: str
    html: str
    markdown: str
    is_default: bool
    updated_at: datetime | None
    text_lang: str = ""
    out_of_date: bool = False

    @property
    def foreign(self) -> bool:
        """Whether the text is in another language than the one asked for (the original)."""
        return self.text_lang != self.lang


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


def _row(session: Session, kind: str, lang: str) -> LegalPage | None:
    return session.exec(select(LegalPage).where(LegalPage.kind == kind, LegalPage.lang == lang)).first()


def _original_of(row: LegalPage | None, settings: Settings, kind: str) -> str:
    """The original's Markdown given its row (None: never saved): the city's text, or the default."""
    return row.body_md if row is not None and row.body_md else default_markdown(kind, settings.default_language,
                                                                                settings.session_days)


def original_markdown(session: Session, settings: Settings, kind: str) -> str:
    """The original's Markdown: the city's text in the default language, or the default."""
    return _original_of(_row(session, kind, settings.default_language), settings, kind)


def text_of(session: Session, settings: Settings, kind: str, lang: str) -> LegalText:
    """Page `kind` in `lang` as visitors see it: the city's text in `lang`, else the city's
    original (in the default language) when there is one, else the platform's default in
    `lang`. Raises NotFound for an unknown kind or language."""
    if kind not in KINDS or lang not in LANGUAGES:
        raise NotFound()
    original = settings.default_language
    row = _row(session, kind, lang)
    if row is not None and row.body_md:
        stale = lang != original and row.source_fingerprint != fingerprint(original_markdown(session, settings, kind))
        return LegalText(kind, lang, row.body_html, row.body_md, False, row.updated_at, lang, stale)
    source = _row(session, kind, original) if lang != original else None
    if source is not None and source.body_md:
        return LegalText(kind, lang, source.body_html, source.body_md, False, source.updated_at, original)
    days = settings.session_days
    return LegalText(kind, lang, _default_html(kind, lang, days), default_markdown(kind, lang, days), True, None, lang)


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
    # A translation remembers the original it was made from (out of date once that changes).
    row.source_fingerprint = (fingerprint(original_markdown(session, settings, kind))
                              if lang != settings.default_language and markdown else "")
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.add(row)
    session.flush()
    assert row.id is not None
    record(session, actor=actor, action=AuditAction.legal_page_save, target_type=TargetType.legal_page,
           target_id=row.id, details={"kind": kind, "lang": lang, "default": not markdown})
    return row


@dataclass(frozen=True)
class Version:
    """One language of a page on the admin list: when the city last saved it (None: the
    platform's default), whether it is the original, and whether it is an out-of-date translation."""

    saved: datetime | None
    original: bool
    out_of_date: bool


def overview(session: Session, settings: Settings) -> list[tuple[str, str, dict[str, Version]]]:
    """For the admin list: (kind, title msgid, {lang: its Version}) for every page."""
    rows = {(r.kind, r.lang): r for r in session.exec(select(LegalPage).where(LegalPage.body_md != "")).all()}
    original = settings.default_language
    result = []
    for kind, (title, _route) in KINDS.items():
        current = fingerprint(_original_of(rows.get((kind, original)), settings, kind))
        versions = {}
        for lang in LANGUAGES:
            row = rows.get((kind, lang))
            versions[lang] = Version(row.updated_at if row else None, lang == original,
                                     row is not None and lang != original and row.source_fingerprint != current)
        result.append((kind, title, versions))
    return result
