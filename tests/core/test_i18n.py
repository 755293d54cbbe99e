"""Languages: French complete, no broken placeholders, Dutch and German catalogues for the
foundation, and the same page in French and English chosen by ?lang=, cookie or Accept-Language."""

import re
from datetime import UTC, datetime

import pytest

from app.i18n import (
    LANG_COOKIE,
    TRANSLATIONS_DIR,
    Plural,
    catalogue,
    format_date,
    format_datetime,
    language,
    ngettext,
    translate,
)
from app.i18n_catalog import PLACEHOLDER, extracted_msgids, missing, placeholder_mismatches
from tests.support import WebClient

# Where the foundation's strings live (issue 2); each later domain checks its own catalogues.
FOUNDATION = re.compile(
    r"^(app/[a-z_]+\.py|app/account/|app/pages/|templates/(base\.html|_macros/|account/|errors/|pages/"
    r"|emails/(verify_email|password_reset)\.txt))"
)


def foundation_msgids() -> dict[str, str]:
    found = {msgid: where for msgid, where in extracted_msgids().items() if FOUNDATION.match(where)}
    assert len(found) > 80, "the extraction lost the foundation's strings"
    return found


def test_every_msgid_has_a_french_translation() -> None:
    lacking = missing("fr")
    listing = "\n".join(f"  {where}: {msgid!r}" for msgid, where in sorted(lacking.items(), key=lambda i: i[1]))
    assert not lacking, f"{len(lacking)} strings lack French (python -m app.i18n_catalog fr):\n{listing}"


def test_extraction_sees_python_templates_macros_and_emails() -> None:
    places = set(extracted_msgids().values())
    for prefix in ("app/account/", "app/handlers.py", "templates/base.html", "templates/_macros/forms.html",
                   "templates/emails/verify_email.txt"):
        assert any(p.startswith(prefix) for p in places), prefix


@pytest.mark.parametrize("lang", ["fr", "nl", "de"])
def test_no_translation_has_a_placeholder_its_msgid_lacks(lang: str) -> None:
    assert placeholder_mismatches(lang) == []


@pytest.mark.parametrize("lang", ["fr", "nl", "de"])
def test_foundation_strings_are_translated(lang: str) -> None:
    known = catalogue(lang)
    lacking = sorted(msgid for msgid in foundation_msgids() if msgid not in known)
    assert not lacking, f"{lang} lacks: {lacking}"
    for msgid in foundation_msgids():
        text = known[msgid]
        if isinstance(text, str):
            # Placeholders kept exactly: a translation without {name} would silently drop the name.
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (lang, msgid)
        else:  # plural forms may also use {n}, the count
            for form in text:
                assert set(PLACEHOLDER.findall(form)) <= set(PLACEHOLDER.findall(msgid)) | {"n"}, (lang, msgid)


def test_french_by_default_and_english_on_request(client: WebClient) -> None:
    french = client.get("/account/login")
    assert french.status_code == 200
    assert '<html lang="fr">' in french.text
    assert "<h1>Se connecter</h1>" in french.text
    assert "Mot de passe oublié" in french.text

    english = client.get("/account/login?lang=en")
    assert '<html lang="en">' in english.text
    assert "<h1>Log in</h1>" in english.text
    assert "Forgot your password?" in english.text
    assert english.cookies.get(LANG_COOKIE) == "en"

    remembered = client.get("/account/register")  # no ?lang=: the cookie decides
    assert '<html lang="en">' in remembered.text and "<h1>Create an account</h1>" in remembered.text

    client.get("/?lang=fr")
    assert "<h1>Créer un compte</h1>" in client.get("/account/register").text


def test_accept_language_picks_the_first_supported_language(client: WebClient) -> None:
    english = client.get("/account/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in english.text and "<h1>Log in</h1>" in english.text
    dutch = client.get("/account/login", headers={"Accept-Language": "es, nl-BE;q=0.8, en;q=0.5"})
    assert '<html lang="nl">' in dutch.text and "<h1>Aanmelden</h1>" in dutch.text
    unknown = client.get("/account/login", headers={"Accept-Language": "es, it;q=0.8"})
    assert '<html lang="fr">' in unknown.text
    # An explicit choice beats the browser's preference.
    client.get("/?lang=de")
    german = client.get("/account/login", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in german.text and "<h1>Anmelden</h1>" in german.text


def test_the_language_switcher_links_every_language_keeping_the_page(client: WebClient) -> None:
    page = client.get("/account/login?next=/account").text
    assert '<nav class="lang-switcher" aria-label="Langue">' in page
    for code, name in (("fr", "Français"), ("en", "English"), ("nl", "Nederlands"), ("de", "Deutsch")):
        link = re.search(rf'<a href="([^"]+)" lang="{code}" hreflang="{code}"[^>]*>{code.upper()}'
                         rf'<span class="visually-hidden"> {name}</span></a>', page)
        assert link, f"no switcher link for {code}"
        assert link.group(1) == f"/account/login?next=%2Faccount&amp;lang={code}"
    assert 'lang="fr" hreflang="fr" aria-current="true"' in page


def test_unknown_language_is_ignored(client: WebClient) -> None:
    response = client.get("/account/login?lang=xx")
    assert '<html lang="fr">' in response.text
    assert LANG_COOKIE not in response.cookies


PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "nl": "nplurals=2; plural=(n != 1);",
                "de": "nplurals=2; plural=(n != 1);"}


@pytest.mark.parametrize("lang", sorted(PLURAL_FORMS))
def test_every_catalogue_declares_its_language_s_plural_rule(lang: str) -> None:
    """Translation tools (msgfmt, Weblate, Poedit) read the header: in French 0 takes the singular
    ("0 jour"), in Dutch and German the plural."""
    files = sorted((TRANSLATIONS_DIR / lang).glob("*.po"))
    assert len(files) >= 10
    wrong = [f.name for f in files if f'"Plural-Forms: {PLURAL_FORMS[lang]}\\n"' not in f.read_text(encoding="utf-8")]
    assert not wrong, f"{lang}: these catalogues lack the Plural-Forms header {PLURAL_FORMS[lang]!r}: {wrong}"


def test_a_plural_message_takes_the_form_of_its_count_in_each_language() -> None:
    skipped = Plural("{count} idea skipped: already decided, or your own.",
                     "{count} ideas skipped: already decided, or your own.", "count")
    assert translate("fr", skipped, count=1).startswith("1 idée ignorée")
    assert translate("fr", skipped, count=0).startswith("0 idée ignorée")  # French: 0 and 1 are "one"
    assert translate("fr", skipped, count=3).startswith("3 idées ignorées")
    assert translate("en", skipped, count=1) == "1 idea skipped: already decided, or your own."
    assert translate("en", skipped, count=0) == "0 ideas skipped: already decided, or your own."
    assert translate("de", skipped, count=2).startswith("2 Ideen übersprungen")
    # A count already formatted for display cannot choose a form ("1.000" is a thousand in German).
    with pytest.raises(TypeError):
        translate("de", skipped, count="1.000")
    # Decimals follow the language's rule: 1.5 is singular in French, plural in English.
    with language("fr"):
        assert ngettext("{days} day", "{days} days", 1.5, days="1,5") == "1,5 jour"
    with language("en"):
        assert ngettext("{days} day", "{days} days", 1.5, days="1.5") == "1.5 days"


def test_a_date_and_a_time_are_written_as_each_language_writes_them() -> None:
    """Written once a day and language (app.i18n keeps what it wrote): the same moment asked
    in turn in each language, then again, is written in each one's own way, in the city's time
    (Brussels: UTC+1 in December)."""
    moment = datetime(2026, 12, 2, 18, 5, tzinfo=UTC)
    expected = {
        "fr": ("2 décembre 2026", "02/12/2026", "2 déc. 2026, 19:05"),
        "en": ("December 2, 2026", "12/2/26", "Dec 2, 2026, 7:05\u202fPM"),  # a narrow no-break space (CLDR)
        "nl": ("2 december 2026", "02-12-2026", "2 dec 2026, 19:05"),
        "de": ("2. Dezember 2026", "02.12.26", "02.12.2026, 19:05"),
    }
    for _ in range(2):
        for lang, (long, short, with_time) in expected.items():
            with language(lang):
                assert (format_date(moment), format_date(moment.date(), "short"), format_datetime(moment)) == (
                    long, short, with_time)
    with language("fr"):  # 23:30 UTC is the next day in Brussels
        assert format_date(datetime(2026, 12, 2, 23, 30, tzinfo=UTC)) == "3 décembre 2026"
