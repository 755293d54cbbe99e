"""Content in every language: what staff write (calls, themes, districts) in one original language,
with translations in the others.

Each translatable object carries two columns: `original_language` (one of `app.settings.LANGUAGES`)
and `translations`, a JSON object kept on the row itself, so that showing a translated call, its
themes or a list of cards costs no query beyond loading the objects:

    {"nl": {"title": {"text": "…", "source": "<fingerprint of the original>", "saved_at": "ISO"},
            "description_md": {"text": "…", "html": "<p>…</p>", "source": "…", "saved_at": "…"}}}

`source` is a fingerprint of the original field's text when the translation was saved: once the
original changes, the fingerprints differ and the translation is *out of date* (still shown, flagged
in the editor). Markdown fields are rendered at write time (`app.richtext.render_markdown`), like
their originals.

Pages read through `shown(obj, field)` (a Jinja global; the macros of `templates/_macros/content.html`):
the visitor's language when a translation exists, otherwise the original, with its language for
the `lang` attribute and the "Original in …" marker. Machine translation is not built (no offline
engine installable here); `MACHINE_TRANSLATOR` is the hook where one would be plugged in, and its
output would be stored with `"machine": true` and never replace a human translation.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import N_, current_language
from app.media import sandbox
from app.richtext import render_markdown
from app.settings import LANGUAGES

# Language names as shown in the visitor's language, for the "Original in {language}" marker.
LANGUAGE_LABELS = {"fr": N_("French"), "nl": N_("Dutch"), "de": N_("German"), "en": N_("English")}

# Translatable fields per kind of object, with their longest length (that of the original column).
# "answer" is an idea's official answer (app.moderation), whose columns are named apart: see ATTRIBUTES;
# "assistant_entry" an entry of the assistant's knowledge (app.assistant), its original in `language`.
FIELDS: dict[str, dict[str, int]] = {
    "call": {"title": 160, "summary": 500, "description_md": 60_000},
    "category": {"name": 120, "description": 500},
    "district": {"name": 120},
    "answer": {"answer_md": 10_000},
    "assistant_entry": {"question": 300, "phrasings": 5_000, "answer_md": 20_000},
}
# kind -> (its original-language column, its translations column); the others use the defaults.
ATTRIBUTES = {"answer": ("answer_language", "answer_translations"),
              "assistant_entry": ("language", "translations")}
DEFAULT_ATTRIBUTES = ("original_language", "translations")
FIELD_LABELS = {"title": N_("Title"), "summary": N_("Summary"), "description_md": N_("Description"),
                "name": N_("Name"), "description": N_("Description"), "answer_md": N_("Official answer"),
                "question": N_("Question"), "phrasings": N_("Other ways of asking it")}
MARKDOWN_SUFFIX = "_md"

# A function (text, from_language, to_language) -> translated text, or None: machine translation
# is off. No maintained offline engine could be installed on these machines (see the module doc).
MACHINE_TRANSLATOR: Callable[[str, str, str], str] | None = None


def fingerprint(text: str) -> str:
    """A short fingerprint (16 hex digits of SHA-256) of an original text, stored with a
    translation to tell when the original changed after it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Shown:
    """What a page shows for one field: `text` (HTML already rendered for a Markdown field, shown
    with `|richtext`), `lang` its language, and `foreign`: the original shown because the page's
    language has no translation and differs from the original's (the page adds `lang` and the
    "Original in …" marker)."""

    text: str
    lang: str
    foreign: bool

    @property
    def language_label(self) -> str:
        return LANGUAGE_LABELS.get(self.lang, self.lang)


def _original(obj: Any, field: str) -> str:
    """What a page shows of the original: the rendered HTML of a Markdown field."""
    if field.endswith(MARKDOWN_SUFFIX):
        return str(getattr(obj, field.removesuffix(MARKDOWN_SUFFIX) + "_html") or "")
    return str(getattr(obj, field) or "")


def _source(obj: Any, field: str) -> str:
    """The original a translation is made from (its Markdown when the object keeps it, else its
    HTML: an official answer keeps only its HTML)."""
    return str(getattr(obj, field, None) or "") if hasattr(obj, field) else _original(obj, field)


def _table(obj: Any, kind: str | None) -> dict[str, Any]:
    return getattr(obj, ATTRIBUTES.get(kind or "", DEFAULT_ATTRIBUTES)[1], None) or {}


def original_language(obj: Any, kind: str | None = None) -> str:
    """The object's original language (`fr` for rows without one)."""
    return getattr(obj, ATTRIBUTES.get(kind or "", DEFAULT_ATTRIBUTES)[0], None) or "fr"


def shown(obj: Any, field: str, language: str | None = None, kind: str | None = None) -> Shown:
    """The text of `obj.field` for a reader of `language` (default: the request's language).
    For a Markdown field (`description_md`) the text is its rendered HTML. `kind` is needed only
    for the kinds whose columns are named apart (ATTRIBUTES: "answer", "assistant_entry")."""
    lang = language or current_language()
    source = original_language(obj, kind)
    if lang != source:
        entry = (_table(obj, kind).get(lang) or {}).get(field) or {}
        text = entry.get("html") if field.endswith(MARKDOWN_SUFFIX) else entry.get("text")
        if text:
            return Shown(str(text), lang, False)
        original = _original(obj, field)
        return Shown(original, source, bool(original))
    return Shown(_original(obj, field), source, False)


def plain(obj: Any, field: str) -> str:
    """Only the text of `shown` (for a `<title>`, an attribute, an e-mail subject)."""
    return shown(obj, field).text


@dataclass
class FieldStatus:
    """One field in one language, for the editor: the translation's text (empty when missing)
    and whether it is older than the original."""

    field: str
    language: str
    original: str
    text: str
    missing: bool
    out_of_date: bool
    machine: bool = False


def status(obj: Any, kind: str) -> dict[str, dict[str, FieldStatus]]:
    """field -> language -> FieldStatus, for every language other than the original. A field whose
    original is empty needs no translation (never missing)."""
    source = original_language(obj, kind)
    table = _table(obj, kind)
    result: dict[str, dict[str, FieldStatus]] = {}
    for field in FIELDS[kind]:
        original = _source(obj, field)
        result[field] = {}
        for lang in LANGUAGES:
            if lang == source:
                continue
            entry = (table.get(lang) or {}).get(field) or {}
            text = str(entry.get("text") or "")
            result[field][lang] = FieldStatus(
                field=field, language=lang, original=original, text=text,
                missing=bool(original.strip()) and not text,
                out_of_date=bool(text) and entry.get("source") != fingerprint(original),
                machine=bool(entry.get("machine")))
    return result


def missing(obj: Any, kind: str) -> list[tuple[str, str]]:
    """(field, language) pairs with no translation (fields whose original is empty excluded)."""
    return [(field, lang) for field, langs in status(obj, kind).items()
            for lang, st in langs.items() if st.missing]


def out_of_date(obj: Any, kind: str) -> list[tuple[str, str]]:
    """(field, language) pairs whose translation is older than the original."""
    return [(field, lang) for field, langs in status(obj, kind).items()
            for lang, st in langs.items() if st.out_of_date]


def set_translations(obj: Any, kind: str, language: str, texts: dict[str, str]) -> list[str]:
    """Store `texts` (field -> text) as `obj`'s translation into `language`; an empty text removes
    that field's translation. Returns the fields changed. Validates everything before writing:
    raises ValidationFailed for an unknown or original language, an unknown field, or a text longer
    than the original column allows. Does not flush or commit."""
    errors: dict[str, str] = {}
    if language not in LANGUAGES or language == original_language(obj, kind):
        raise ValidationFailed({"language": N_("Choose one of the platform's languages, other than the original.")})
    limits = FIELDS[kind]
    for field, text in texts.items():
        if field not in limits:
            errors[field] = N_("This field cannot be translated.")
        elif len(text) > limits[field]:
            errors[field] = N_("This text is too long.")
    if errors:
        raise ValidationFailed(errors)
    table: dict[str, Any] = {lang: dict(fields) for lang, fields in _table(obj, kind).items()}
    mine: dict[str, Any] = dict(table.get(language) or {})
    changed: list[str] = []
    now = utcnow().isoformat(timespec="seconds")
    for field, raw in texts.items():
        text = raw.strip()
        before = mine.get(field) or {}
        source = fingerprint(_source(obj, field))
        if not text:
            if field in mine:
                del mine[field]
                changed.append(field)
            continue
        if before.get("text") == text and before.get("source") == source:
            continue
        entry: dict[str, Any] = {"text": text, "source": source, "saved_at": now}
        if field.endswith(MARKDOWN_SUFFIX):
            entry["html"] = render_markdown(text)
        mine[field] = entry
        changed.append(field)
    if mine:
        table[language] = mine
    else:
        table.pop(language, None)
    # A new object, so that SQLAlchemy sees the JSON change.
    setattr(obj, ATTRIBUTES.get(kind, DEFAULT_ATTRIBUTES)[1], table)
    return changed


# --- What citizens write ---------------------------------------------------------------------
# Ideas and comments stay in the language they were written in: their `language` column, declared
# from the form, else detected here (py3langid: a maintained library with its model in the package,
# offline), else None (too short or too unsure to say, or the detector unavailable). The model
# (about 60 MB) is never loaded by a web process: the sandbox's server program answers, one per
# web process, started at the first detection (app.media.sandbox.detect).

DETECTION_MIN_CHARACTERS = 20
DETECTION_MIN_PROBABILITY = 0.9


def detect_language(text: str) -> str | None:
    """The language (one of LANGUAGES) of a citizen's text, or None when it is shorter than
    DETECTION_MIN_CHARACTERS letters, the detector's probability is below
    DETECTION_MIN_PROBABILITY, or the detection server could not answer (logged; the text is
    saved all the same, its language unknown). Reads the first
    `sandbox.DETECT_MAX_CHARACTERS` characters; a few milliseconds once the server runs."""
    text = text[:sandbox.DETECT_MAX_CHARACTERS]
    letters = sum(ch.isalpha() for ch in text)
    if letters < DETECTION_MIN_CHARACTERS:
        return None
    detected = sandbox.detect(text, LANGUAGES)
    if detected is None or detected.probability < DETECTION_MIN_PROBABILITY:
        return None
    return detected.language


def declared_or_detected(declared: str, text: str) -> str | None:
    """The language an author declared (when one of LANGUAGES), else the one detected in `text`."""
    return declared if declared in LANGUAGES else detect_language(text)
