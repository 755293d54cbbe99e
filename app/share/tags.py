"""The Open Graph and Twitter card tags a page's layout writes (`Preview`), and the site-wide
preview every public page gets unless its route gives its own (app.web.render). This module
imports no domain, so that the layout's renderer can use it."""

from dataclasses import dataclass

from app import links
from app.i18n import current_language, gettext
from app.settings import Settings
from app.share.images import HEIGHT, WIDTH

# og:locale wants a territory: the platform serves a Belgian city.
OG_LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_GB"}
DESCRIPTION_LENGTH = 200


@dataclass(frozen=True)
class Preview:
    """What the layout writes as Open Graph and Twitter card tags. `url` and `image` are
    absolute (BASE_URL in front); texts are plain and escaped by the template."""

    title: str
    description: str
    url: str
    image: str
    image_alt: str
    type: str = "website"
    image_width: int = WIDTH
    image_height: int = HEIGHT

    @property
    def locale(self) -> str:
        """The page language as og:locale (`fr_BE`)."""
        return OG_LOCALES.get(current_language(), "fr_BE")


def site_preview(settings: Settings, path: str, platform_name: str) -> Preview:
    """The site-wide preview of a page that gives none of its own, at `path` (without query),
    under the platform's name as the city set it (app.identity)."""
    return Preview(
        title=platform_name, description=gettext("Propose, support and discuss ideas for your city."),
        url=settings.absolute_url(path), image=settings.absolute_url(links.path("share:site_image")),
        image_alt=gettext("{platform}: every idea gets an answer.", platform=platform_name),
    )
