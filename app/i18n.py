"""Languages: English msgids, translated from gettext catalogues (French first).

Each domain keeps its own catalogue file, `app/translations/<lang>/<domain>.po`; they are
merged at start-up, so features can add strings without touching each other's files.
The current language lives in a context variable set by `LocaleMiddleware` for each request,
so `_()` works in templates, routes and error handlers alike. Code that writes to someone
else (e-mails) passes the recipient's language explicitly with `translate()`.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_time as _babel_format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _babel_format_decimal
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import cookies
from app.settings import LANGUAGES
from app.typography import NNBSP, french

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "nl": "Nederlands", "de": "Deutsch"}
LANG_COOKIE = cookies.LANGUAGE.base  # its name over http; see app.cookies for https

_current: ContextVar[str] = ContextVar("language", default="fr")


_CATALOGUES: dict[str, dict[str, Any]] = {}
_READING = threading.Lock()


def catalogue(language: str) -> dict[str, Any]:
    """msgid -> translation (a str, or a tuple of plural forms), merged over every domain. French
    translations get French typography here (app.typography), once, for every page and e-mail.

    Read once per process, by one thread while the others wait: a server just started under load
    has all its threads ask at once (30 supports), and each reading every .po file itself cost
    each process about a second of CPU (py-spy, the benchmark's supports on PostgreSQL)."""
    found = _CATALOGUES.get(language)
    if found is None:
        with _READING:
            found = _CATALOGUES.get(language)
            if found is None:
                found = _CATALOGUES[language] = _read_catalogue(language)
    return found


def _read_catalogue(language: str) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    folder = TRANSLATIONS_DIR / language
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as fh:
            for message in read_po(fh, locale=language):
                if not message.id or not message.string or message.fuzzy:
                    continue
                key = str(message.id if isinstance(message.id, str) else message.id[0])
                text = message.string
                if language == "fr":
                    text = french(text) if isinstance(text, str) else tuple(french(form) for form in text)
                messages[key] = text
    return messages


def current_language() -> str:
    return _current.get()


def colon() -> str:
    """The colon a template puts after markup (`<time>...</time>{{ colon() }}`), which the
    catalogue's French typography (app.typography) cannot reach: with its narrow no-break space
    in French, bare elsewhere."""
    return NNBSP + ":" if current_language() == "fr" else ":"


@contextmanager
def language(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LANGUAGES else "fr")
    try:
        yield
    finally:
        _current.reset(token)


class Plural(str):
    """A message with a plural form, to be translated later: its singular msgid (the string
    itself, the catalogue's key as for `ngettext`), its English plural (`plural`) and the name
    of the parameter holding the count (`counted`). What a flash message or an AppError carries
    when its sentence has a number, "1 idea skipped" / "3 ideas skipped": `gettext` and
    `translate` choose the form from that parameter, as `ngettext` does: a number (int or
    float), not a formatted one ("1.000" is a thousand in German). Marked for extraction by
    `N_plural`."""

    plural: str
    counted: str

    def __new__(cls, singular: str, plural: str, counted: str = "n") -> "Plural":
        made = super().__new__(cls, singular)
        made.plural = plural
        made.counted = counted
        return made


def N_plural(singular: str, plural: str, counted: str = "n") -> Plural:  # noqa: N802 - gettext's marker style
    """Mark a message with plural forms for extraction, translated later (see `Plural`)."""
    return Plural(singular, plural, counted)


def translate(lang: str, message: str, **params: Any) -> str:
    """`message` (an English msgid; a `Plural` by its count parameter) in language `lang`,
    its {placeholders} filled from `params`. Raises KeyError when a placeholder has no
    parameter (a `Plural` without its count among them included), TypeError when a `Plural`'s
    count is not a number."""
    if isinstance(message, Plural):
        count = params[message.counted]
        if not isinstance(count, int | float):
            raise TypeError(f"the count {message.counted!r} of {str(message)!r} is not a number: {count!r}")
        return _plural_text(lang, str(message), message.plural, count, params)
    found = catalogue(lang).get(message)
    text = found if isinstance(found, str) and found else message
    return text.format(**params) if params else text


def gettext(message: str, **params: Any) -> str:
    return translate(_current.get(), message, **params)


def ngettext(singular: str, plural: str, n: float, **params: Any) -> str:
    """The form of `singular`/`plural` for the number `n` in the current language (its CLDR
    plural rule), `{n}` and the other placeholders filled from `n` and `params`."""
    params.setdefault("n", n)
    return _plural_text(_current.get(), singular, plural, n, params)


def _plural_text(lang: str, singular: str, plural: str, n: float, params: dict[str, Any]) -> str:
    found = catalogue(lang).get(singular)
    if isinstance(found, tuple | list) and all(found):
        forms = list(found)
        text = forms[min(_plural_index(_plural_tag(lang, n)), len(forms) - 1)]
    else:
        text = singular if n == 1 else plural
    return text.format(**params)


@cache
def _locale(lang: str) -> Locale:
    """Babel's locale of `lang`, parsed once per language: `Locale.parse` looks the identifier
    up again at every call (4 of the 11 us a date took to write)."""
    return Locale.parse(lang)


@cache
def _plural_form(lang: str) -> Any:
    """The CLDR plural rule of `lang` (n -> "one", "other"...): parsed once per language, not
    once per count printed (a list page prints dozens)."""
    return _locale(lang).plural_form


@lru_cache(maxsize=4096)
def _plural_tag(lang: str, n: float) -> str:
    """The CLDR plural category of `n` in `lang` ("one", "other"...). Babel evaluates the rule in
    Python, a few microseconds a call, and a logged-in list asks it for every card (the
    supports left, the counts): 4% of the page's time (py-spy, bench data). Counts repeat."""
    return str(_plural_form(lang)(n))


def _plural_index(tag: str) -> int:
    # French, English, Dutch and German all have two forms: "one" and everything else.
    return 0 if tag == "one" else 1


_ = gettext


def N_(message: str) -> str:
    """Marks a msgid for extraction whose translation happens later, when it is shown."""
    return message


# Dates are shown in the city's time zone; one platform serves one city.
CITY_TZ = ZoneInfo("Europe/Brussels")


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Date in the given length, time to the minute: seconds mean nothing to a reader."""
    if value is None:
        return ""
    language = _current.get()
    local = value.astimezone(CITY_TZ)
    day = _format_date(local.date(), fmt, language)
    hour = _format_time(local.hour, local.minute, language)
    pattern = str(_locale(language).datetime_formats.get(fmt, "{1} {0}"))
    return pattern.replace("{1}", day).replace("{0}", hour)


def format_date(value: datetime | date | None, fmt: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(CITY_TZ).date()
    return _format_date(value, fmt, _current.get())


@lru_cache(maxsize=4096)
def _format_date(value: date, fmt: str, language: str) -> str:
    # As numbers (`_format_number`): the same day in the same length and language is written the
    # same way, and a page writes the same few days (the phases', the cards') again and again:
    # 11 us a date through Babel (a logged-in list, which no cache keeps, writes a dozen).
    return str(_babel_format_date(value, format=fmt, locale=_locale(language)))


@lru_cache(maxsize=4096)
def _format_time(hour: int, minute: int, language: str) -> str:
    """A time of day to the minute, as `language` writes it short ("19:00", "7:00 PM")."""
    return str(_babel_format_time(time(hour, minute), format="short", locale=_locale(language)))


def format_number(value: float | int) -> str:
    """`value` written as the current language writes numbers ("1 234" in French)."""
    return _format_number(value, _current.get())


@lru_cache(maxsize=4096, typed=True)
def _format_number(value: float | int, language: str) -> str:
    # Babel's formatting reads the locale's pattern every time (about 60 us a number, three a
    # call page); the same number in the same language is written the same way.
    return str(_babel_format_decimal(value, locale=language))


def negotiate(accept_language: str, default: str) -> str:
    """The first supported language in an Accept-Language header, by quality."""
    candidates: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, q = piece.partition(";q=")
        try:
            quality = float(q) if q else 1.0
        except ValueError:
            quality = 0.0
        candidates.append((quality, tag.strip().lower()[:2]))
    for _quality, code in sorted(candidates, key=lambda c: -c[0]):
        if code in LANGUAGES:
            return code
    return default


class LocaleMiddleware:
    """Picks the language: `?lang=` (remembered in a cookie), the cookie, Accept-Language."""

    def __init__(self, app: ASGIApp, default: str = "fr", secure_cookie: bool = False) -> None:
        self.app = app
        self.default = default
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Read as Starlette reads headers (the first of a repeated one), as the page cache keys
        # the page by: a dict of them took the last, so a request sending `fr` then `de` made a
        # German page kept for French visitors (app.pagecache.middleware).
        accept_language = Headers(scope=scope).get("accept-language", "")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        requested = (query.get("lang") or [""])[0]
        remembered = cookies.LANGUAGE.read_scope(scope, https=self.secure_cookie)
        if requested in LANGUAGES:
            lang = requested
        elif remembered in LANGUAGES:
            lang = remembered
        else:
            lang = negotiate(accept_language, self.default)
        scope.setdefault("state", {})["language"] = lang
        token = _current.set(lang)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and requested in LANGUAGES:
                message.setdefault("headers", []).append(
                    (b"set-cookie", cookies.LANGUAGE.header(requested, https=self.secure_cookie)))
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie if requested in LANGUAGES else send)
        finally:
            _current.reset(token)
