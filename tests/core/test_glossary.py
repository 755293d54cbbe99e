"""One word per thing in every interface language (docs/glossary.md, issue 15): no catalogue and
no English msgid uses a word the glossary rules out, so a citizen never reads "votes" on one page
and "supports" on the next, or "winner" where the results say "selected"."""

import re

import pytest

from app.i18n import catalogue
from app.i18n_catalog import extracted_msgids

# language -> the glossary's "never" words, as patterns over whole words.
NEVER = {
    "en": [r"\bvotes\b", r"\b\{n\} vote\b", r"\bvote (left|scope|limit)\b", r"\bwinners?\b", r"\bwinning\b",
           r"\bproposals?\b", r"\bcategor(y|ies)\b", r"\bupvotes?\b", r"\blikes\b"],
    "fr": [r"\bvotes\b", r"\bvos votes\b", r"\blauréat", r"\bgagnant", r"\bcatégories?\b", r"\bpropositions?\b"],
    "nl": [r"\bstem\b", r"\bwinnaars?\b", r"\bwinnende?\b", r"\bcategorie(ën)?\b"],
    "de": [r"\bStimmen?\b", r"\bGewinner", r"\bSieger", r"\bKategorien?\b", r"\bVorschläge?\b"],
}
# Texts where a ruled-out word is right: the public API's parameter names are a stable interface.
ALLOWED: dict[str, set[str]] = {"fr": set(), "nl": set(), "de": set(), "en": {
    "The public ideas of a call, page by page. Parameters: category, district, status, sort (newest, supported, "
    "discussed or random), page and per_page (at most 100).",
    "The public ideas of a call that say where they are, as GeoJSON (RFC 7946: a FeatureCollection of points in "
    "longitude, latitude order). Parameters: category, district and status.",
}}


def _texts(language: str) -> dict[str, str]:
    if language == "en":
        return {msgid: msgid for msgid in extracted_msgids()}
    found: dict[str, str] = {}
    for msgid, text in catalogue(language).items():
        found[msgid] = " | ".join(text) if isinstance(text, tuple | list) else text
    return found


@pytest.mark.parametrize("language", sorted(NEVER))
def test_no_interface_text_uses_a_word_the_glossary_rules_out(language: str) -> None:
    faults = []
    for msgid, text in _texts(language).items():
        if msgid in ALLOWED[language]:
            continue
        for pattern in NEVER[language]:
            if re.search(pattern, text, re.IGNORECASE if language != "de" else 0):
                faults.append(f"{pattern}: {text[:100]!r}")
    assert not faults, f"{len(faults)} texts break docs/glossary.md:\n" + "\n".join(faults)


def test_a_support_is_called_a_support_on_the_idea_page_in_every_language() -> None:
    expected = {"fr": "soutien", "nl": "steunbetuiging", "de": "Unterstützung"}
    for language, word in expected.items():
        left = catalogue(language)["You have {n} support left in this call."]
        assert all(word in form for form in left), (language, left)


def test_the_voting_phase_keeps_the_glossary_name_in_every_language() -> None:
    # docs/glossary.md: the phase in which supports are given is "vote" / "stemming" / "Abstimmung"
    # (the Dutch verb "stemmen" is not the phase's name).
    expected = {"fr": "Vote", "nl": "Stemming", "de": "Abstimmung"}
    assert {language: catalogue(language)["Voting"] for language in expected} == expected
