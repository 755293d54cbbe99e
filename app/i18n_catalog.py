"""Finds every translatable string in the code and templates, and what each language lacks.

Used by the i18n test (French must be complete) and by `python -m app.i18n_catalog LANG`,
which prints the missing msgids of a language as a .po snippet to fill in.
"""

import re
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "N_plural": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _searched(dirpath: str) -> bool:
    # Babel skips "_" folders by default, and templates/_macros holds strings too.
    name = Path(dirpath).name
    return not name.startswith(".") and name != "__pycache__"


def extracted_msgids() -> dict[str, str]:
    """msgid -> first place it appears, over app/ (Python) and templates/ (Jinja)."""
    found: dict[str, str] = {}
    sources = (
        (ROOT / "app", [("**.py", "python")]),
        (ROOT / "templates", [("**.html", "jinja2"), ("**.txt", "jinja2"), ("**.svg", "jinja2")]),
    )
    for folder, method_map in sources:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(folder), method_map, keywords=KEYWORDS, options_map={"**.html": {}, "**.txt": {}, "**.svg": {}},
            directory_filter=_searched,
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault(msgid, f"{folder.name}/{filename}:{lineno}")
    return found


def missing(language: str) -> dict[str, str]:
    known = catalogue(language)
    return {msgid: where for msgid, where in extracted_msgids().items() if msgid not in known}


def placeholder_mismatches(language: str) -> list[str]:
    """Translations whose {placeholders} differ from their msgid's (they would crash .format)."""
    bad = []
    for msgid, text in catalogue(language).items():
        forms = text if isinstance(text, tuple | list) else (text,)
        for form in forms:
            if set(PLACEHOLDER.findall(form)) - set(PLACEHOLDER.findall(msgid)):
                bad.append(msgid)
    return bad


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


if __name__ == "__main__":
    lang = sys.argv[1] if len(sys.argv) > 1 else "fr"
    for msgid, where in sorted(missing(lang).items(), key=lambda item: item[1]):
        print(f"#: {where}\nmsgid \"{_po_escape(msgid)}\"\nmsgstr \"\"\n")
