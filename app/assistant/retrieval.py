"""Finding the entry that answers a question: a lexical ranking over each entry's question and
its other phrasings, in the asker's language, tolerant of typos and missing accents.

Text is normalised as search does (`app.search.text`: lower case, no accents, common words left
out), plus the words every question has ("how", "comment", "hoe", "wie"...), and a light
suffix folding (plurals). Each entry's phrasings are compared with the question:

- a word of the question matches a word of a phrasing exactly (1), as a prefix of at least
  PREFIX_MIN letters (0.9: "verif" ~ "verifie"), or by character trigrams (Dice coefficient of
  the words' padded trigram sets, at least FUZZY_MIN: "verifeé" ~ "verifie");
- words are weighted by their inverse document frequency over the entries of the language, as
  Okapi BM25 weights them (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and
  Beyond", 2009: idf = ln(1 + (N - df + 0.5) / (df + 0.5))); a question word that matches
  nothing gets the largest idf, so unknown words lower the confidence;
- a phrasing's score is QUERY_WEIGHT × the weighted share of the question it explains plus
  (1 - QUERY_WEIGHT) × the weighted share of the phrasing the question covers; an entry's score
  is its best phrasing's, between 0 and 1. That score is the confidence compared with
  `THRESHOLD` by app.assistant.answering.

Entries are few (tens to a few hundred per language): they are scored in memory at each question.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.search.text import STOP_WORDS, WORD, fold

PREFIX_MIN = 4
FUZZY_MIN = 0.6
QUERY_WEIGHT = 0.6
THRESHOLD = 0.42  # confidence under which the assistant says it does not know (measured: tests/assistant)

# Words that make a sentence a question or a request without saying what it is about, in the
# four languages, folded. Left out like stop words.
QUESTION_WORDS = frozenset("""
comment quand quel quelle quels quelles combien est ce ca cela faire fait peut peux puis dois doit
on y a il elle svp merci bonjour salut alors donc avoir etre ai as avez
how what when where which who why do does did can could should would will i my me you your please
hello hi there get didnt dont doesnt work works
marche fonctionne werkt funktioniert
hoe wat wanneer waar welke wie kan kun moet mag wil ben bent heb hebt doe doen graag hallo
wie was wann wo welche welcher wer kann konnen muss darf will bin habe ich mich mir du ihr bitte hallo
""".split())

_SUFFIXES = ("es", "s", "e", "en", "n")


def stem(word: str) -> str:
    """A word with a common ending folded away (plurals, a French feminine e, Dutch and German
    plural -en), kept at PREFIX_MIN letters at least ("idees" -> "idee", "stemmen" -> "stemm")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= PREFIX_MIN:
            return word[: -len(suffix)]
    return word


def normalise(text: str) -> list[str]:
    """The words of `text` that say what it asks: folded (lower case, no accents), without stop
    words, question words or one-letter words, stemmed (`stem`), each once, in order."""
    seen: list[str] = []
    for word in WORD.findall(fold(text)):
        if len(word) < 2 or word in STOP_WORDS or word in QUESTION_WORDS:
            continue
        word = stem(word)
        if word not in seen:
            seen.append(word)
    return seen


def trigrams(word: str) -> frozenset[str]:
    """The character trigrams of `word` padded with one space each side ("vote" -> " vo", "vot",
    "ote", "te ")."""
    padded = f" {word} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """How well word `a` (asked) matches word `b` (written), from 0 to 1: equal 1, one a prefix of
    the other (both at least PREFIX_MIN letters) 0.9, else the trigram Dice coefficient when at
    least FUZZY_MIN, else 0."""
    if a == b:
        return 1.0
    if len(a) >= PREFIX_MIN and len(b) >= PREFIX_MIN and (a.startswith(b) or b.startswith(a)):
        return 0.9
    if min(len(a), len(b)) < 4:
        return 0.0
    ta, tb = trigrams(a), trigrams(b)
    dice = 2 * len(ta & tb) / (len(ta) + len(tb))
    return dice if dice >= FUZZY_MIN else 0.0


@dataclass
class Document:
    """An entry as the ranking sees it: its id and its phrasings' normalised words."""

    entry_id: int
    phrasings: list[list[str]]
    words: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.words = {w for p in self.phrasings for w in p}


@dataclass(frozen=True)
class Match:
    entry_id: int
    score: float  # 0 to 1: the confidence


def document(entry_id: int, question: str, phrasings: str) -> Document:
    """The document of an entry: its question and each non-empty line of `phrasings`."""
    texts = [question, *[line for line in phrasings.splitlines() if line.strip()]]
    return Document(entry_id, [words for words in (normalise(t) for t in texts) if words])


class Index:
    """The entries of one language, ready to rank questions against."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = list(documents)
        n = len(self.documents)
        df: dict[str, int] = {}
        for doc in self.documents:
            for word in doc.words:
                df[word] = df.get(word, 0) + 1
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        self._best: dict[str, tuple[float, float]] = {}

    def _weight(self, word: str) -> float:
        """The idf of the vocabulary word `word` matches best (the largest idf if none)."""
        best = 0.0, self.max_idf
        for known, idf in self.idf.items():
            sim = similarity(word, known)
            if sim > best[0]:
                best = sim, idf
                if sim == 1.0:
                    break
        return best[1]

    def rank(self, question: str, limit: int = 3) -> list[Match]:
        """The `limit` best entries for `question`, best first, with their scores (0 to 1);
        empty when the question has no meaningful word."""
        asked = normalise(question)
        if not asked or not self.documents:
            return []
        weights = {w: self._weight(w) for w in asked}
        total = sum(weights.values())
        matches = []
        for doc in self.documents:
            best = 0.0
            for phrasing in doc.phrasings:
                sims = {(q, t): similarity(q, t) for q in asked for t in phrasing}
                explained = sum(weights[q] * max(sims[q, t] for t in phrasing) for q in asked) / total
                written = sum(self.idf.get(t, self.max_idf) for t in phrasing)
                covered = sum(self.idf.get(t, self.max_idf) * max(sims[q, t] for q in asked)
                              for t in phrasing) / written
                best = max(best, QUERY_WEIGHT * explained + (1 - QUERY_WEIGHT) * covered)
            matches.append(Match(doc.entry_id, round(best, 4)))
        matches.sort(key=lambda m: (-m.score, m.entry_id))
        return matches[:limit]


_SPACES = re.compile(r"\s+")


def clean_question(text: str, limit: int = 500) -> str:
    """`text` on one line, spaces collapsed, at most `limit` characters."""
    return _SPACES.sub(" ", text).strip()[:limit]
