"""The stylesheets parse as written: a block left open (an unclosed `@media print {`, as a merge
once left it) silently puts every later rule inside it, so a whole page loses its styles on
screen. Browsers forgive it; this test does not."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static" / "css"


def _blocks(css: str) -> list[tuple[int, int]]:
    """The (line, depth) of every `}` that closes nothing, and of every `{` left open at the end."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), css, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', text)  # braces inside strings do not count
    opened: list[int] = []
    wrong: list[tuple[int, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for ch in line:
            if ch == "{":
                opened.append(number)
            elif ch == "}":
                if opened:
                    opened.pop()
                else:
                    wrong.append((number, 0))
    return wrong + [(number, 1) for number in opened]


@pytest.mark.parametrize("sheet", sorted(p.name for p in STATIC.glob("*.css")))
def test_every_block_is_closed(sheet: str) -> None:
    assert _blocks((STATIC / sheet).read_text(encoding="utf-8")) == [], sheet


def test_the_check_sees_an_unclosed_block() -> None:
    assert _blocks("@media print {\n  a { color: #000; }\n\n.b { color: red; }\n") == [(1, 1)]
    assert _blocks("a { content: \"}\"; }\n}\n") == [(2, 0)]
