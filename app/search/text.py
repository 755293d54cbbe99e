"""What a search query and an indexed text are made of, the same for every backend: words
folded to lower case without accents, common words left out, and highlighted segments.

A query never reaches a search engine as the user typed it: it is cut into words made of
letters and digits only, so operators (`NEAR(`, `:`, `*`, `"`, `%`, `-`) are spaces, and each
backend quotes the words it receives."""

import functools
import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY = 200  # characters a query may have; longer ones get a message, not a search
MAX_TERMS = 12  # words kept from a query; more add little and cost a join each
MIN_TERM = 2  # one-letter words ("l", "d", "a") are left out: too common to mean anything

# Common words left out of queries, in the four languages of the interface. Short lists on
# purpose: the most frequent function words of each language, taken from the Snowball stop word
# lists (snowballstem.org/algorithms/{french,dutch,german,english}/stop.txt), folded like the
# text (no accents, lower case). A longer list would drop words people do search for.
STOP_WORDS = frozenset("""
au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes moi
mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une
vos votre vous est sont cette
de het een en van ik te dat die in is hij niet zijn op aan met als voor had er maar om hem dan zou
wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe heeft
der die das und in den von zu mit sich des auf fur ist im dem nicht ein eine als auch es an
werden aus er hat dass sie nach bei um am sind noch wie einem uber einen so zum
the of and to in is it that for on with as at by an be this are or from
""".split())

VOCABULARY_MIN = 4  # letters of the shortest word an index's vocabulary keeps
VOCABULARY_MAX = 40  # and of the longest

MARK_START = "\x02"  # marks a highlight inside text; control characters are stripped first
MARK_END = "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WORD = re.compile(r"[^\W_]+")


class _Unaccented(dict[int, str]):
    """str.translate's table folding a character as `fold` does but for the case: its NFKD
    decomposition without combining marks, each character's computed once when first met.
    Decomposition works character by character, and the canonical reordering NFKD adds moves
    combining marks only, which are dropped: the whole text's result is the same."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        self[code] = folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        return folded


_UNACCENTED = _Unaccented()


def fold(text: str) -> str:
    """`text` in lower case without accents ("Énergie" -> "energie"), as the indexes compare it:
    its NFKD form without combining marks, in lower case (a table lookup per character,
    `_Unaccented`; ASCII text is only lowered)."""
    if text.isascii():
        return text.lower()
    return text.translate(_UNACCENTED).lower()


def clean(text: str) -> str:
    """`text` without control characters (which could pass for highlight marks)."""
    return _CONTROL.sub(" ", text)


def words_only(text: str) -> str:
    """The words of `text` (letters and digits) separated by spaces: what a backend whose own
    parser reads more than words (PostgreSQL skips `<tags>`, keeps URLs whole) is given, so
    that every backend finds the same words."""
    return " ".join(WORD.findall(text))


def terms(query: str) -> list[str]:
    """The words of `query` to search for: folded, without stop words or one-letter words, each
    once, in order, at most MAX_TERMS. Only letters and digits: never an operator."""
    seen: list[str] = []
    for word in WORD.findall(fold(query)):
        if len(word) >= MIN_TERM and word not in STOP_WORDS and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def vocabulary(text: str) -> set[str]:
    """The folded words of `text` of VOCABULARY_MIN to VOCABULARY_MAX letters, as a query's words
    are folded: what the database backends keep of indexed texts to expand a prefix (SQLite)
    or correct a typo (both). A single word gives itself, or nothing if out of bounds."""
    return {w for w in WORD.findall(fold(text)) if VOCABULARY_MIN <= len(w) <= VOCABULARY_MAX}


def prefix_words(text: str) -> set[str]:
    """The folded words of `text` of VOCABULARY_MIN letters or more, however long: what the
    database backends keep of indexed texts to expand a query's prefix into the words it starts
    (`vocabulary`'s words, and the longer ones, which a prefix must find too: "donau" finds
    "Donaudampfschifffahrtsgesellschaft…" of 60 letters)."""
    return {w for w in WORD.findall(fold(text)) if len(w) >= VOCABULARY_MIN}


@dataclass(frozen=True)
class Segment:
    """A piece of text to show, highlighted or not. Templates escape `text` and wrap a
    highlighted segment in <mark>: the only markup in a result."""

    text: str
    mark: bool = False


@functools.lru_cache(maxsize=256)
def _prefixes(words: tuple[str, ...]) -> re.Pattern[str]:
    """The expression finding, in folded text, the words starting with one of `words`: built
    once for the twenty titles and excerpts of a page (and the next searches of those words)."""
    prefixes = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{prefixes})[^\W_]*")


def _marked_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """The (start, end) of the words of `text` starting with one of `words` (folded). One
    regular expression over the folded text when folding keeps every character's place (it
    does for the Latin, Greek and Cyrillic scripts of the interface); word by word otherwise."""
    if not words:
        return []
    folded = fold(text)
    if len(folded) == len(text):
        return [(m.start(), m.end()) for m in _prefixes(tuple(words)).finditer(folded)
                if WORD.fullmatch(text[m.start():m.end()])]
    return [(m.start(), m.end()) for m in WORD.finditer(text)
            if any(fold(m.group()).startswith(w) for w in words)]


def _segments(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> list[Segment]:
    """`text[start:end]` cut into segments, the `spans` (sorted, not overlapping) starting in
    it highlighted (to `end` at most)."""
    end = len(text) if end is None else end
    segments: list[Segment] = []
    position = start
    for first, last in spans:
        if first < start or first >= end:
            continue
        last = min(last, end)
        if first > position:
            segments.append(Segment(text[position:first]))
        segments.append(Segment(text[first:last], mark=True))
        position = last
    if position < end:
        segments.append(Segment(text[position:end]))
    return segments


def highlight(text: str, words: list[str]) -> list[Segment]:
    """`text` cut into segments, the words starting with one of `words` (folded) highlighted."""
    return _segments(text, _marked_spans(text, words))


def excerpt(text: str, words: list[str], length: int = 220) -> list[Segment]:
    """About `length` characters of `text` around its first highlighted word (or its start),
    cut at spaces, with "…" where it was cut, as highlighted segments."""
    text = " ".join(text.split())
    start = 0
    spans = _marked_spans(text, words)
    if spans:
        start = max(0, spans[0][0] - length // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    # The spans found in the whole text are those of the piece: it is cut at spaces, between
    # words. The marks "…" are added around it, not in it: folded, "…" becomes "..." and would
    # send the highlighting down its slower path.
    return ([Segment("…")] if start else []) + _segments(text, spans, start, end) + (
        [Segment("…")] if end < len(text) else [])
