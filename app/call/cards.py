"""Idea cards of a call's list as every visitor sees them, kept as HTML in each server process
(issue 14): a logged-in citizen's list, which the page cache never keeps, renders only what is
theirs (the support form with its CSRF token, "You support it", the supports left) and takes
the rest of each card from here. The page's whole list of cards is kept too (`card_list`), by
each card's state for its viewer (`CardState`, decided by the route), never by who the viewer
is, and with a slot (CSRF_SLOT) where each request puts its own token.

What a kept card holds is rendered from `call/_idea_card_shared.html` with nothing but the card,
the call's voting mode and whether the selection is public: no viewer, no token, no flash, so a
kept card cannot hold anything personal (that template has no access to them).

Regions of the call page that every visitor sees alike (the results, announcements, timeline
and description; the filters; the figures) are kept the same way (`SharedCards.region`), by
the call, its phase, the filters and the page number (by the call and its phase alone for those
that show nothing of the list); and so is the page of ideas itself, read from the database once
(`listing`: 3 statements a page spared), bounded in pages and in bytes.

Why it is exact: a card is served only while the page generation it was made under
(app.pagecache.generation) is still current, as the values of app.pagecache.memo are; every
write through any process bumps it after its commit. The route reads the generation before the
call's row and the ideas (`read_before`), so what is kept is never older than its generation.
The call's voting mode and whether the phase made the selection public are part of the key
too, and so are the idea's own version (`updated_at`) and counters, so that even an object
changed in this process's own session is not served old. Nothing in a card follows the clock
but the phase, which is in the key: cards need no time limit; regions and pages of ideas live
30 s at most.
"""

import sys
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from app import clock
from app.i18n import current_language
from app.pagecache import tracking
from app.pagecache.lru import BoundedLRU

T = TypeVar("T")
TEMPLATE = "call/_idea_card_shared.html"
LIST_TEMPLATE = "call/_idea_cards.html"
# Where a kept list of cards takes the viewer's CSRF token: printed raw (Markup) in place of the
# token, so no text of a page can look like it (every "<" a visitor wrote is printed "&lt;", and
# rich text is cleaned by nh3), and holding a NUL, which no request may carry (app.security).
CSRF_SLOT = Markup("<\x00csrf\x00>")  # noqa: S704 - a constant of ours
# The bound of the kept cards and regions of one process, in bytes of memory of their HTML
# (sys.getsizeof: Python keeps a string in 1, 2 or 4 bytes a character, by its widest one, so a
# single emoji in a title makes its card 4 times larger than its length; keys and bookkeeping
# add about 300 bytes an entry). Measured on the benchmark's data, in characters: 24 cards and
# the page's 3 regions kept 23,500, about 900 a card (twice that in memory with a typographic
# quote); so 8 MiB keeps 4,500 to 9,000 cards, every language's list pages of a large call. The
# least recently shown go first.
MAX_BYTES = 8 * 1024 * 1024
REGION_TTL_SECONDS = 30  # as whole pages (app.pagecache.store.TTL_SECONDS)

# Cards under (generation, updated_at, supports, comments); regions under (generation, time made).
KEPT: BoundedLRU[tuple[Any, ...], Markup] = BoundedLRU(MAX_BYTES)
# Whole lists of cards (`SharedCards.card_list`), 30 to 90 KB each, in a store of their own: while
# supports spread the viewers' states, lists come and go without pushing out the cards and
# regions every list is made from. Under (generation, time made).
CARD_LISTS: BoundedLRU[tuple[Any, ...], Markup] = BoundedLRU(MAX_BYTES)
# Whole call pages as logged-in citizens see them without their name and token (app.call.shell),
# about 90 KB of memory each (a review filled the store with 93): 8 MiB keeps the viewer shapes
# of a call's busiest pages in each language. Under (generation, time made).
SHELLS: BoundedLRU[tuple[Any, ...], Markup] = BoundedLRU(MAX_BYTES)


def read_before(session: Session) -> None:
    """Read the page generation now, before the data of what will be kept: on PostgreSQL each
    statement sees the commits before it, so data read after the generation is as new as it
    (on SQLite the generation is read when the transaction begins: app.pagecache.memo)."""
    tracking.generation_of(session)


class CardState(NamedTuple):
    """What one card shows of its viewer, decided by the route (app.call.routes, through
    app.authz): whether they support the idea (`voted`), whether the card has the support
    form (`may_vote`), and, with it, the limit's bucket ("call", a theme's id or "none"),
    whether supports are counted per theme, and the supports `left` under it. Hashable (a
    tuple: hashed without a Python call, 24 times a page): a list of cards is kept by its
    cards' states, never by who views it."""

    voted: bool = False
    may_vote: bool = False
    bucket: str = ""
    per_theme: bool = False
    left: int = 0


# The states of a card without the support form, made once.
NOT_VOTED = CardState()
VOTED = CardState(voted=True)


class SharedCards:
    """The shared part of each card of one page, from the process's cards or rendered once.

    Built by the route for one request; the template calls `html(card)` for each card."""

    def __init__(self, session: Session, *, voting_mode: str, selection_public: bool,
                 page: tuple[Hashable, ...] = (), call: tuple[Hashable, ...] = ()) -> None:
        # Read (or already read) before what is kept is read (`read_before`).
        self.generation = tracking.generation_of(session)
        self.database = session.info.get(tracking.DATABASE_KEY)
        self.language = current_language()
        self.voting_mode = voting_mode
        self.selection_public = selection_public
        self.page = page  # what makes a region of the page differ: call, phase, filters, page number
        self.call = call  # what makes a region that ignores the list differ: call, phase

    def region(self, name: str, caller: Callable[[], str], of_the_list: bool = True) -> Markup:
        """`{% call shared_cards.region("name") %}...{% endcall %}`: a part of the page every
        visitor sees alike for the same `page` (the call, its phase, the filters), rendered only
        when not kept. A region that shows nothing of the list (`of_the_list=false`: the call's
        description, its timeline) is kept once for the call and its phase, not once for each
        filter, order, random seed and page. The template must keep everything personal (the
        viewer, a CSRF token, a flash message) out of such a block. Regions also follow the clock
        ("3 days ago" in an announcement): kept REGION_TTL_SECONDS at most."""
        if self.generation is None:
            return Markup(caller())  # noqa: S704 - the block's own output, escaped by its template
        key = (self.database, "region", name, self.language, self.voting_mode, self.selection_public,
               *(self.page if of_the_list else self.call), of_the_list)
        now = clock.seconds()
        found = KEPT.get(key)
        if found is not None:
            (generation, made_at), html = found
            if generation == self.generation and now - made_at < REGION_TTL_SECONDS:
                return html
        html = Markup(caller())  # noqa: S704 - the block's own output, escaped by its template
        KEPT.put(key, (self.generation, now), html, sys.getsizeof(html))
        return html

    def card_list(self, cards: Iterable[Any], states: Mapping[int, CardState], *, list_url: str,
                  csrf_token: str, flashes: Iterable[Mapping[str, Any]] = ()) -> Markup:
        """The page's `<ul>` of cards (`call/_idea_cards.html`) for a viewer whose cards are in
        `states` (idea id -> CardState), their forms coming back to `list_url` and carrying
        `csrf_token`; `flashes` are the page's messages (render's), those anchored at a card
        shown in it. Kept per process, like the regions, by the page, the language, `list_url`
        and every card's version and state: two viewers whose cards are in the same state
        share one list. What is kept is rendered without the viewer and with CSRF_SLOT for the
        token, put in for each request (hexadecimal: app.security.csrf_token_for, escaped all
        the same). A page with a message at a card is rendered afresh and not kept."""
        cards = list(cards)
        card_flashes: dict[str, list[str]] = {}
        for flash in flashes:
            anchor = str(flash.get("anchor", ""))
            if anchor.startswith("card-"):
                card_flashes.setdefault(anchor, []).append(str(flash.get("message", "")))
        if self.generation is None or card_flashes:
            return self._render_list(cards, states, list_url, csrf_token, card_flashes)
        key = (self.database, "cards", self.language, self.voting_mode, self.selection_public, *self.page,
               list_url, tuple((c.idea.id, c.idea.updated_at, c.idea.vote_count, c.idea.comment_count,
                                states[c.idea.id]) for c in cards))
        now = clock.seconds()
        found = CARD_LISTS.get(key)
        if found is not None and found[0][0] == self.generation and now - found[0][1] < REGION_TTL_SECONDS:
            html = found[1]
        else:
            html = self._render_list(cards, states, list_url, CSRF_SLOT, {})
            CARD_LISTS.put(key, (self.generation, now), html, sys.getsizeof(html))
        if csrf_token is CSRF_SLOT:  # a page shell's list (app.call.shell): the token is put in later
            return html
        # The token is hexadecimal; escaped all the same, as the template would.
        return Markup(str(html).replace(str(CSRF_SLOT), str(escape(csrf_token))))  # noqa: S704 - ours, token escaped

    def _render_list(self, cards: list[Any], states: Mapping[int, CardState], list_url: str, csrf_token: str,
                     card_flashes: dict[str, list[str]]) -> Markup:
        from app.web import env  # the pages' environment; app.web imports the routes' modules

        # An .html template: autoescaped (app.web); no viewer, no request in its context.
        return Markup(env.get_template(LIST_TEMPLATE).render(  # noqa: S704 - escaped by the template
            cards=cards, shared_cards=self, card_states=states, list_url=list_url, csrf_token=csrf_token,
            card_flashes=card_flashes))

    def html(self, card: Any) -> Markup:
        """The card's HTML up to its personal part (app.idea.queries.Card -> Markup, the opening
        of `<li>`, `<article>` and the card's body left open for `vote/_card.html`)."""
        idea = card.idea
        if self.generation is None:  # a database whose writes are not tracked: nothing is kept
            return self._render(card)
        key = (self.database, idea.id, self.language, self.voting_mode, self.selection_public)
        version = (self.generation, idea.updated_at, idea.vote_count, idea.comment_count)
        found = KEPT.get(key)
        if found is not None and found[0] == version:
            return found[1]
        html = self._render(card)
        KEPT.put(key, version, html, sys.getsizeof(html))
        return html

    def _render(self, card: Any) -> Markup:
        from app.web import env  # the pages' environment; app.web imports the routes' modules

        # An .html template: autoescaped (app.web), so what it prints of the idea is escaped once.
        return Markup(env.get_template(TEMPLATE).render(  # noqa: S704 - escaped by the template
            card=card, voting_mode=self.voting_mode, selection_public=self.selection_public))


def kept_html() -> list[str]:
    """The HTML of every card, region, list and page shell (app.call.shell) kept in this process
    (tests check that none holds anything personal)."""
    return [str(html) for html in (*KEPT.values(), *CARD_LISTS.values(), *SHELLS.values())]


def kept_listings() -> list[Any]:
    """The pages of ideas kept in this process (tests check their memory stays bounded)."""
    return LISTINGS.values()


def forget() -> None:
    """Drop every kept card, region, list, page shell and page of ideas (tests)."""
    KEPT.clear()
    CARD_LISTS.clear()
    SHELLS.clear()
    LISTINGS.clear()


# A list page's ideas (app.idea.queries.IdeaPage: 24 cards with their idea rows, photos, total)
# as every visitor's list shows them, kept by the call, its phase, the filters and the page. Each
# page holds its own copies of its ideas' rows, bodies and answers included (the form takes
# 10,000 characters a body: up to about 80 KB an idea in memory, 2 MB a page), so the bound is
# in bytes of those texts (`_weight`) as well as in pages: measured 40 KB a page pickled on the
# benchmark's data, so 64 pages of page 1 of each sort and filter of the busiest calls fit.
MAX_LISTINGS = 64
MAX_LISTING_BYTES = 16 * 1024 * 1024
LISTINGS: BoundedLRU[tuple[str, float], Any] = BoundedLRU(MAX_LISTING_BYTES, MAX_LISTINGS)  # weighed by `_weight`


def listing(session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()` (an IdeaPage read through `session`), or the page it gave while the page
    generation stayed the same and less than REGION_TTL_SECONDS ago. Its ideas and photos are
    taken out of `session` (read-only, shared by the requests of the process): nothing may
    change them. `key` names the page: the call, its phase, the filters, the page number."""
    generation = tracking.generation_of(session)
    if generation is None:
        return compute()
    full_key = (session.info.get(tracking.DATABASE_KEY), *key)
    now = clock.seconds()
    found = LISTINGS.get(full_key)
    if found is not None:
        (made_under, made_at), kept = found
        if made_under == generation and now - made_at < REGION_TTL_SECONDS:
            return kept  # type: ignore[no-any-return]
    page = compute()
    for card in getattr(page, "cards", []):
        for item in (card.idea, card.thumb, card.thumb_photo):
            if item is not None and item in session:
                session.expunge(item)
    LISTINGS.put(full_key, (generation, now), page, _weight(page))
    return page


def _weight(page: Any) -> int:
    """The memory of the texts a page of ideas holds, in bytes: every string and JSON value of
    its ideas, photos and files (titles, bodies, answers and their translations)."""
    return sum(_sizeof(value) for card in getattr(page, "cards", [])
               for item in (card.idea, card.thumb, card.thumb_photo) if item is not None
               for value in vars(item).values())


def _sizeof(value: Any) -> int:
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(_sizeof(k) + _sizeof(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(_sizeof(v) for v in value)
    return 0  # numbers, dates, the ORM's state: a few dozen bytes each, whatever the idea says
