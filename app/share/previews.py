"""Share previews: the Open Graph and Twitter card tags of a public page, and the share images'
cards. Only public content gets a preview: an idea a visitor may not see has none (its page and
image answer 404 to visitors; its author or a moderator sees the page without preview tags)."""

from app import contentlang, links
from app.call.models import Call
from app.call.phases import is_public, results_public
from app.i18n import format_number, gettext, ngettext
from app.idea.models import Idea
from app.idea.queries import CallFigures
from app.richtext import html_excerpt
from app.settings import Settings
from app.share.images import Card
from app.share.tags import DESCRIPTION_LENGTH, Preview


def results_out(call: Call) -> bool:
    """Whether the call's results are public (its results or closed phase)."""
    return results_public(call)


def site_card(brand: str) -> Card:
    """The site's own share image: `brand`, the platform's name as the city set it
    (app.identity), and what it is for."""
    return Card(brand=brand, title=gettext("Propose, support and discuss ideas for your city."))


def figures_line(figures: CallFigures) -> str:
    """A call's figures as one translated line: "12 ideas · 340 supports · 75% answered"."""
    return " · ".join((
        ngettext("{count} idea", "{count} ideas", figures.ideas, count=format_number(figures.ideas)),
        ngettext("{count} support", "{count} supports", figures.supports, count=format_number(figures.supports)),
        gettext("{percent}% answered", percent=figures.answered_percent),
    ))


def call_card(call: Call, figures: CallFigures, brand: str, cover_key: str = "") -> Card:
    """A call's share image: `brand` (the platform's name), its title (with "Results" once they
    are out), its figures and the key of its cover photo ("" for none)."""
    return Card(brand=brand, title=call.title,
                subtitle=gettext("Results") if results_out(call) else gettext("Call for projects"),
                figures=figures_line(figures), cover_key=cover_key)


def idea_card(idea: Idea, call: Call, brand: str) -> Card:
    """An idea's share image: `brand` (the platform's name), its title, its call and its supports."""
    return Card(brand=brand, title=idea.title, subtitle=call.title,
                figures=ngettext("{count} support", "{count} supports", idea.vote_count,
                                 count=format_number(idea.vote_count)))


def call_preview(settings: Settings, call: Call, figures: CallFigures) -> Preview:
    """A call page's preview (its results page too, once they are out)."""
    name = contentlang.plain(call, "title")  # in the reader's language where translated
    title = gettext("Results: {title}", title=name) if results_out(call) else name
    return Preview(
        title=title,
        description=contentlang.plain(call, "summary") or html_excerpt(call.description_html, DESCRIPTION_LENGTH)
        or figures_line(figures),
        url=settings.absolute_url(links.call_path(call.slug)),
        image=settings.absolute_url(links.path("share:call_image", slug=call.slug)),
        image_alt=f"{name}: {figures_line(figures)}",
    )


def idea_preview(settings: Settings, idea: Idea, call: Call) -> Preview | None:
    """An idea page's preview, or None for an idea the public may not see."""
    if not idea.is_public or idea.id is None or not is_public(call):
        return None
    return Preview(
        title=idea.title,
        description=html_excerpt(idea.body_html, DESCRIPTION_LENGTH) or contentlang.plain(call, "title"),
        url=settings.absolute_url(links.idea_path(idea.id)),
        image=settings.absolute_url(links.path("share:idea_image", idea_id=idea.id)),
        image_alt=gettext("{title}, an idea for “{call}”", title=idea.title, call=contentlang.plain(call, "title")),
        type="article",
    )
