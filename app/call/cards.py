"""Idea cards of a call's list as every visitor sees them, kept as HTML in each server process
(issue 14): a logged-in citizen's list, which the page cache never keeps, renders only what is
theirs (the support form with its CSRF token, "You support it", the supports left) and takes
the rest of each card from here.

What a kept card holds is rendered from `call/_idea_card_shared.html` with nothing but the card,
the call's voting mode and whether the selection is public: no viewer, no token, no flash, so a
kept card cannot hold anything personal (that template has no access to them).

Why it is exact: a card is served only while the page generation it was made under
(app.pagecache.generation) is still current, as the values of app.pagecache.memo are; every
write through any process bumps it after its commit. The generation is read before the list's
ideas (app.pagecache.memo explains when), so a kept card is never older than its generation.
What comes from the call row, read earlier (its voting mode, whether the phase made the
selection public), is part of the key itself, and so are the idea's own version (`updated_at`)
and counters, so that even an object changed in this process's own session is not served old.
Nothing in a card follows the clock but the phase, which is in the key: no time limit needed.
"""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from app.i18n import current_language
from app.pagecache import tracking

TEMPLATE = "call/_idea_card_shared.html"
# The bound of the kept cards of one process, in bytes of HTML (the keys and bookkeeping add
# about 300 bytes a card). Measured: a card's shared part is 1.4-1.9 KB (demo and benchmark
# data, with a photo and two tags), so 8 MiB keeps about 5,000 cards, every language's list
# pages of a large call; the least recently shown are dropped first.
MAX_BYTES = 8 * 1024 * 1024

_KEPT: "OrderedDict[tuple[Hashable, ...], tuple[tuple[Hashable, ...], Markup]]" = OrderedDict()
_size = 0
_LOCK = threading.Lock()  # requests run in a thread pool: one change of the LRU at a time


class SharedCards:
    """The shared part of each card of one page, from the process's cards or rendered once.

    Built by the route for one request; the template calls `html(card)` for each card."""

    def __init__(self, session: Session, *, voting_mode: str, selection_public: bool) -> None:
        # Read (or already read) before the ideas of the list: app.pagecache.memo.
        self.generation = tracking.generation_of(session)
        self.database = session.info.get(tracking.DATABASE_KEY)
        self.language = current_language()
        self.voting_mode = voting_mode
        self.selection_public = selection_public

    def html(self, card: Any) -> Markup:
        """The card's HTML up to its personal part (app.idea.queries.Card -> Markup, the opening
        of `<li>`, `<article>` and the card's body left open for `vote/_card.html`)."""
        idea = card.idea
        if self.generation is None:  # a database whose writes are not tracked: nothing is kept
            return self._render(card)
        key = (self.database, idea.id, self.language, self.voting_mode, self.selection_public)
        version = (self.generation, idea.updated_at, idea.vote_count, idea.comment_count)
        with _LOCK:
            found = _KEPT.get(key)
            if found is not None and found[0] == version:
                _KEPT.move_to_end(key)
                return found[1]
        html = self._render(card)
        _keep(key, version, html)
        return html

    def _render(self, card: Any) -> Markup:
        from app.web import env  # the pages' environment; app.web imports the routes' modules

        # An .html template: autoescaped (app.web), so what it prints of the idea is escaped once.
        return Markup(env.get_template(TEMPLATE).render(  # noqa: S704 - escaped by the template
            card=card, voting_mode=self.voting_mode, selection_public=self.selection_public))


def _keep(key: tuple[Hashable, ...], version: tuple[Hashable, ...], html: Markup) -> None:
    global _size
    with _LOCK:
        _keep_locked(key, version, html)


def _keep_locked(key: tuple[Hashable, ...], version: tuple[Hashable, ...], html: Markup) -> None:
    global _size
    old = _KEPT.pop(key, None)
    if old is not None:
        _size -= len(old[1])
    _KEPT[key] = (version, html)
    _size += len(html)
    while _size > MAX_BYTES and _KEPT:
        _key, (_version, evicted) = _KEPT.popitem(last=False)
        _size -= len(evicted)


def kept_html() -> list[str]:
    """The HTML of every card kept in this process (tests check that none holds anything personal)."""
    with _LOCK:
        return [html for _version, html in _KEPT.values()]


def forget() -> None:
    """Drop every kept card (tests)."""
    global _size
    with _LOCK:
        _KEPT.clear()
        _size = 0
