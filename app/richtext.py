"""User Markdown turned into safe HTML: the only place where user text becomes markup.

Markdown is rendered by markdown-it-py with raw HTML disabled, then cleaned by nh3 with a
small allow-list (links get rel="nofollow ugc noopener", only http(s)/mailto URLs survive).
The result is stored at write time; the `richtext` template filter cleans it again on output,
so a row written by an older, laxer version can never inject script.

What people paste renders as they wrote it, as on GitHub (GFM): bare addresses become links
(linkify-it-py; `watch?v=_2_-21bdGe4` keeps its underscores instead of turning into emphasis),
a line break is a line break, lists keep their numbering, code stays code, ~~text~~ is struck.
Bare domains become links only for the top-level domains below, so that "liege.be" does and
"readme.md" or "script.py" (Moldova's and Paraguay's domains) do not.
"""

import html

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "s", "ul", "ol", "li", "blockquote", "code", "pre", "a", "h2", "h3", "h4", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
# Domains linked without http:// or www. in front (the city's, its neighbours', the usual ones).
BARE_DOMAIN_TLDS = ["be", "brussels", "vlaanderen", "wallonie", "eu", "fr", "nl", "de", "lu", "uk", "ch",
                    "com", "org", "net", "info", "edu", "gov", "int", "io"]

_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False, "breaks": True})
    .enable(["linkify", "strikethrough"])
    .disable("image")
)
_markdown.linkify = LinkifyIt().tlds(BARE_DOMAIN_TLDS)


def clean_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel=LINK_REL,
    )


def render_markdown(source: str, top_heading: int = 3) -> str:
    """Markdown source -> sanitised HTML, ready to store. Headings start at `top_heading` (3 for
    what citizens write, under the page's own h1 and h2; 2 for a page whose whole body is the
    text, like the legal pages) and stop at h4."""
    # Headings from users become h3/h4 so they never compete with the page's own outline.
    html = _markdown.render(source or "")
    top = f"h{top_heading}"
    for level, target in (("h1", top), ("h2", top), ("h5", "h4"), ("h6", "h4")):
        html = html.replace(f"<{level}>", f"<{target}>").replace(f"</{level}>", f"</{target}>")
    return clean_html(html)


def richtext_filter(stored_html: str | None) -> Markup:
    """Jinja filter for sanitised HTML produced by `render_markdown`."""
    return Markup(clean_html(stored_html or ""))  # noqa: S704 - cleaned by nh3 just above


def plain_text(stored_html: str | None) -> str:
    """The text of HTML (stored by `render_markdown`, or just rendered): tags left out, entities
    decoded, runs of whitespace as one space. Plain text, to be escaped wherever it is shown
    (cards, search documents, spreadsheets)."""
    # nh3 with no allowed tag keeps the text and escapes it as HTML: decoded once here.
    return " ".join(html.unescape(nh3.clean(stored_html or "", tags=set())).split())


def cut(text: str, length: int) -> str:
    """`text` if it has at most `length` characters, else its start cut at a word and ended with
    "…" (at most `length` characters in all)."""
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


def html_excerpt(stored_html: str | None, length: int) -> str:
    """The start of stored HTML's text, as `plain_excerpt` gives for its Markdown, without
    rendering the Markdown again (ten times quicker: pages that list items use this)."""
    return cut(plain_text(stored_html), length)


def plain_excerpt(source: str, length: int = 180) -> str:
    """A short text-only excerpt of Markdown (at most `length` characters, cut at a word with
    "…"), for meta descriptions. Cards read the excerpt stored with the idea (Idea.excerpt)."""
    return cut(plain_text(_markdown.render(source or "")), length)
