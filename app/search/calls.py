"""Calls for projects found by the search page: public calls whose title or description holds
every word searched for, accents and case aside, a word matching the start of one of theirs.

Calls are few (a city runs tens of them over years), so they are compared in memory with the
same folding and query words as the ideas' indexes (app.search.text) rather than indexed: the
answer is as fresh as the call's page and costs a single read of the calls."""

from sqlmodel import Session, col, select

from app.call.models import Call
from app.call.phases import is_public
from app.richtext import plain_text
from app.search import text

MAX_CALLS = 5


def matching_calls(session: Session, query: str, limit: int = MAX_CALLS) -> list[Call]:
    """The public calls matching every word of `query` in their title and description, in the
    original or in any of their translations (app.contentlang: a Dutch reader finds a French call
    by its Dutch title), newest first, at most `limit`; [] for a query without a word to search for."""
    words = text.terms(query)
    if not words:
        return []
    found = []
    for call in session.exec(select(Call).order_by(col(Call.id).desc())).all():
        if not is_public(call):
            continue
        # Their text as stored at write (titles plain, descriptions as HTML): no Markdown is
        # rendered while searching.
        translated = [entry.get("html" if name == "description_md" else "text", "")
                      for fields in (call.translations or {}).values()
                      for name, entry in fields.items() if name in ("title", "description_md")]
        written = " ".join([call.title, plain_text(call.description_html), *map(plain_text, translated)])
        own = set(text.fold(text.words_only(written)).split())
        if all(any(word.startswith(term) for word in own) for term in words):
            found.append(call)
            if len(found) == limit:
                break
    return found
