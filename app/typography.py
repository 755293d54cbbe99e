"""French typography for the interface's own words (issue 15): what the French catalogue, the
French e-mails and the French default pages show, never what people write.

The rules, from the Lexique des règles typographiques en usage à l'Imprimerie nationale
(the reference of French public administration) as the Office québécois and most French web
style guides apply them on screen:
- a narrow no-break space (U+202F) before the high punctuation marks `;`, `!`, `?` and before
  `:`, so the mark never starts a line alone ("Mot de passe oublié ?");
- « guillemets » with a narrow no-break space inside;
- the typographic apostrophe (U+2019) in elisions ("l’idée", "aujourd’hui"), not the typewriter
  one, so that one page never mixes the two (translators type what their keyboard gives).

The catalogues keep ordinary spaces (translators type what their keyboard gives); `french()` is
applied once when the French catalogue is loaded (app.i18n.catalogue), so every string, old or
new, follows the rules without anyone having to remember them.
"""

import re

NNBSP = "\u202f"  # NARROW NO-BREAK SPACE
NBSP = "\u00a0"

# A space (ordinary, no-break or already narrow) before the mark: it becomes narrow.
_SPACED = re.compile(r"[ \u00a0\u202f]+([;:!?])")
# A word glued to the mark, the mark ending the word ("Pourquoi?", "Bienvenue!"): a narrow space
# goes in. Only when the mark is followed by a space, a closing mark or the end, so that
# "write:statuses", "https://", "10:30" and "?lang=fr" are left as they are.
_GLUED = re.compile(r"(?<=[\w\)\]\}»%…])([;:!?]+)(?=\s|$|[\"»)\]])")
_OPENING = re.compile(r"«[ \u00a0\u202f]*")
_CLOSING = re.compile(r"[ \u00a0\u202f]*»")
# A typewriter apostrophe between two letters is an elision; one next to anything else (a quoted
# attribute `href='…'`, a placeholder) is left alone.
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")


def french(text: str) -> str:
    """`text` (French) with the narrow no-break spaces of French typography: before `; : ! ?`
    and inside « guillemets », and typographic apostrophes in elisions. Idempotent; leaves URLs,
    times and markup attributes alone."""
    text = _APOSTROPHE.sub("\u2019", text)
    text = _SPACED.sub(lambda m: NNBSP + m.group(1), text)
    text = _GLUED.sub(lambda m: NNBSP + m.group(1), text)
    text = _OPENING.sub("«" + NNBSP, text)
    return _CLOSING.sub(NNBSP + "»", text)


def french_faults(text: str) -> list[str]:
    """What in `text` breaks the rules `french()` applies: the surrounding characters of each
    fault (empty when none). For tests over everything French the platform writes itself."""
    fixed = french(text)
    if fixed == text:
        return []
    return [text[max(m.start() - 12, 0):m.end() + 2]
            for m in (*_SPACED.finditer(text), *_GLUED.finditer(text), *_APOSTROPHE.finditer(text))
            if not text[m.start():m.end()].startswith(NNBSP)] or [text[:40]]
