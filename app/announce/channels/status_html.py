"""A status's HTML as plain text (Mastodon's `content`, the assistant's answers before they are
posted): kept apart from the Mastodon channel so that reading it never imports Mastodon.py,
whose import costs every web process 14 MB and 0.2 s."""

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "li",
                     "h1", "h2", "h3", "h4", "h5", "h6"})
_BLANK_LINES = re.compile(r"\n{3,}")


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a status's HTML `content`: tags removed, entities decoded, `<br>` a
    newline, paragraphs separated by a blank line, links as their full address (Mastodon
    hides part of long addresses in `invisible` spans, kept here)."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in lines)).strip()
