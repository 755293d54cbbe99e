"""User Markdown turned into safe HTML: the only place where user text becomes markup.

Markdown is rendered by markdown-it-py with raw HTML disabled, then cleaned by nh3 with a
small allow-list (links get rel="nofollow noopener ugc", only http(s)/mailto URLs survive).
The result is stored at write time; the `richtext` template filter cleans it again on output,
so a row written by an older, laxer version can never inject script.
"""

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "a", "h3", "h4", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    "image"
)


def clean_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener ugc",
    )


def render_markdown(source: str) -> str:
    """Markdown source -> sanitised HTML, ready to store."""
    # Headings from users become h3/h4 so they never compete with the page's own outline.
    html = _markdown.render(source or "")
    for level, target in (("h1", "h3"), ("h2", "h3"), ("h5", "h4"), ("h6", "h4")):
        html = html.replace(f"<{level}>", f"<{target}>").replace(f"</{level}>", f"</{target}>")
    return clean_html(html)


def richtext_filter(stored_html: str | None) -> Markup:
    """Jinja filter for sanitised HTML produced by `render_markdown`."""
    return Markup(clean_html(stored_html or ""))  # noqa: S704 - cleaned by nh3 just above


def plain_excerpt(source: str, length: int = 180) -> str:
    """A short text-only excerpt of Markdown, for cards and meta descriptions."""
    # nh3 returns HTML (entities escaped); an excerpt is plain text, escaped once where shown.
    text = html.unescape(nh3.clean(_markdown.render(source or ""), tags=set()))
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"
