"""One-letter typos, for a backend whose engine has no fuzzy matching (SQLite's FTS5): the
words one edit away from a query word, and the choice among those the index holds.

An edit is a letter deleted, inserted or replaced, or two neighbouring letters swapped: the
Damerau-Levenshtein distance 1 (in its "optimal string alignment" form), which covers what a
keyboard does to a word ("ecolle", "cyclabe", "fontanie"). Rather than scoring every indexed
word against the query (a scan of the vocabulary per word typed), the backend writes out the
few hundred strings one edit away and asks its index of words which exist: an exact answer in
one lookup per string, as Norvig's spelling corrector does (norvig.com/spell-correct.html)."""

import string
from collections.abc import Mapping

# Letters a word may gain or have replaced: a folded word (app.search.text.fold) of the
# interface's languages is made of these, plus the letters folding keeps (ß, æ, œ, ø...),
# which are taken from the query's own Unicode block (`alphabet`).
_ASCII = string.ascii_lowercase + string.digits
_BLOCK = 128  # code points of a Unicode block: Latin-1 Supplement, Latin Extended-A, Cyrillic halves...
# Blocks whose letters are tried: the word's first one. Each block adds 128 letters, times the
# word's length, to the strings looked up: a query of twelve words of 41 letters each in 41
# blocks of ideographs would be 5 million strings (4 s of CPU for one search). A word of the
# interface's languages has its non-ASCII letters in one block ("straße", "sœur", "улица").
BLOCKS_MAX = 1


def alphabet(word: str) -> str:
    """The letters tried for an insertion or a replacement in `word`: a-z and 0-9, and the
    lower-case letters and digits of the block of 128 code points of its first non-ASCII
    letter (a Cyrillic word gets Cyrillic letters; "straße" gets the Latin-1 letters), in code
    order. Letters of other blocks in the same word are not tried (BLOCKS_MAX)."""
    letters = set(_ASCII)
    blocks = dict.fromkeys(ord(c) // _BLOCK for c in word if not c.isascii())  # in the word's order
    for block in list(blocks)[:BLOCKS_MAX]:
        letters.update(c for c in map(chr, range(block * _BLOCK, (block + 1) * _BLOCK))
                       if c.isalnum() and c == c.lower())
    return "".join(sorted(letters))


def one_edit_away(word: str) -> set[str]:
    """Every string one edit from `word` (a letter of `alphabet(word)` deleted, inserted or
    replaced, or two neighbouring letters swapped), `word` itself left out: about 75 strings
    per letter of `word`."""
    letters = alphabet(word)
    found: set[str] = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        found.update(head + c + tail for c in letters)  # an insertion
        if tail:
            found.add(head + tail[1:])  # a deletion
            found.update(head + c + tail[1:] for c in letters)  # a replacement
        if len(tail) > 1:
            found.add(head + tail[1] + tail[0] + tail[2:])  # a swap
    found.discard(word)
    return found


# Candidate corrections of one query word checked for an idea public now holding them (a read
# each): beyond a few, a typo is more likely a word the index does not hold at all.
CORRECTIONS_TRIED = 5


def ordered_candidates(frequencies: Mapping[str, int]) -> list[str]:
    """The candidate corrections of `frequencies` (as `closest` takes them), best first: the
    most common, then alphabetical; words held by no idea left out."""
    return [word for _n, word in sorted((-n, word) for word, n in frequencies.items() if n > 0)]


def closest(frequencies: Mapping[str, int]) -> str | None:
    """The correction among indexed words one edit away from a query word, given as the number
    of ideas holding each (`frequencies`; words held by none are no correction): the most
    common, then the first in alphabetical order, so that the same query always gets the
    same answer; None when there is none."""
    found = ordered_candidates(frequencies)
    return found[0] if found else None
