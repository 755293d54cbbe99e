"""Campaign tags and click identifiers that links gain on their way to the platform, taken out of
every request's query string at the edge (app.edge), before anything reads it. (The access
log never writes a query string: app.observability.access.)

A result posted on Facebook comes back as `/calls/x/results?fbclid=<a value unique to each
click>`; a newsletter's link as `?utm_source=...&utm_campaign=...`. No page reads them, but every
part of the query string is part of a page: the page cache's key (app.pagecache.store), a
logged-in page's shell (app.call.shell), and the links a page makes from its own address (the
language switch, the pagination, the canonical and Open Graph address a visitor shares on).
Kept, each click from a social network was a page made afresh, kept once and never served again,
pushing out pages that are, and its links carried the identifier on to whoever the visitor
shared them with.

The names: Google's UTM convention (`utm_` and any suffix), and the click identifiers that
browsers remove for their users' privacy (Firefox's query parameter stripping, Brave's list),
of the networks and mailers a city posts on or sends with.
"""

import re

CLICK_IDS = ("fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "twclid", "ttclid", "yclid", "igshid",
             "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi")
_NAME = rb"(?:utm_[^=&]*|" + b"|".join(re.escape(n.encode()) for n in CLICK_IDS) + rb")"
_ANY = re.compile(rb"(?:^|&)" + _NAME + rb"(?:[=&]|$)")
_ONE = re.compile(_NAME + rb"(?:=|$)")


def without_campaign_params(query: bytes) -> bytes:
    """`query` (a raw query string, as ASGI's `scope["query_string"]`) without its campaign
    tags and click identifiers, the other parameters as they were, in their order; `query`
    itself when it has none. A name written with percent-escapes is not recognised (and stays):
    only the cost of a page not shared, as before."""
    if not query or _ANY.search(query) is None:
        return query
    return b"&".join(part for part in query.split(b"&") if part and not _ONE.match(part))
