"""How long a post is, counted the way each network counts it, and what is left of its limit.

- **Mastodon**: 500 characters, counted in grapheme clusters, where every URL counts as 23
  characters whatever its length and a mention `@name@server` counts as `@name`
  (Mastodon's `app/validators/status_length_validator.rb`: `countable_text` replaces each URL
  with `URL_PLACEHOLDER`, 23 characters, then counts `each_grapheme_cluster`; and
  https://docs.joinmastodon.org/user/posting/ "All links count as 23 characters").
- **Bluesky**: 300 graphemes of the post's text (`app.bsky.feed.post`, `text`: maxGraphemes
  300 in the lexicon). A link in the text counts with all its characters: Bluesky has no URL
  discount (a client that shortens a link's shown text posts the shortened text with a facet;
  this platform posts the link as written).
- **X**: 280 weighted characters by the twitter-text 3 rules
  (https://github.com/twitter/twitter-text, `config/v3.json` and `parseTweet`; documented at
  https://developer.x.com/en/docs/counting-characters): the text is NFC-normalised; each URL
  counts 23; each emoji (a whole sequence: a family, a flag, a skin tone, a keycap) counts 2;
  every other code point counts 1 when it lies in one of the ranges U+0000–U+10FF (Latin,
  Greek, Cyrillic, Hebrew, Arabic, Indic scripts...), U+2000–U+200D, U+2010–U+201F and
  U+2032–U+2037, and 2 otherwise (CJK, and anything outside the Basic Multilingual Plane).

Grapheme clusters are Unicode's extended grapheme clusters (UAX #29) as the `regex` module's
`\\X` finds them. URLs are http and https addresses up to the next space, less the punctuation
that ends a sentence after them; X also counts as URLs bare domains (`example.be`), which the
drafts never contain: a limitation of this counter, on the safe side only when they are short.
"""

import unicodedata
from dataclasses import dataclass

import regex

from app.i18n import N_

URL = regex.compile(r"https?://[^\s<>\"']+?(?=[.,;:!?)\]]*(?:\s|$))", regex.IGNORECASE)
MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w", regex.UNICODE)
GRAPHEME = regex.compile(r"\X")
# A cluster X draws as one emoji: a pictographic code point, a flag (regional indicators), a keycap.
EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
URL_LENGTH = 23
# twitter-text config/v3.json: the code point ranges that weigh 100 (1 character); others 200.
X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


@dataclass(frozen=True)
class Channel:
    """A network's limit: `key` a stable identifier, `name` shown as is (a brand), `limit` in
    the network's own unit, `unit` an English msgid."""

    key: str
    name: str
    limit: int
    unit: str


MASTODON = Channel("mastodon", "Mastodon", 500, N_("characters"))
BLUESKY = Channel("bluesky", "Bluesky", 300, N_("graphemes"))
X = Channel("x", "X", 280, N_("weighted characters"))
CHANNELS = (MASTODON, BLUESKY, X)


@dataclass(frozen=True)
class Count:
    """A text measured for one channel: `used` and `remaining` in the channel's unit
    (`remaining` negative when over the limit)."""

    channel: Channel
    used: int

    @property
    def remaining(self) -> int:
        return self.channel.limit - self.used

    @property
    def over(self) -> bool:
        return self.used > self.channel.limit


def graphemes(text: str) -> int:
    """The number of extended grapheme clusters in `text` (a family emoji is one)."""
    return len(GRAPHEME.findall(text))


def mastodon_length(text: str) -> int:
    """`text`'s length as Mastodon counts it: graphemes, each URL as 23, `@a@b` as `@a`."""
    countable = URL.sub("x" * URL_LENGTH, text)
    countable = MENTION.sub(lambda m: "@" + m.group(1), countable)
    return graphemes(countable)


def bluesky_length(text: str) -> int:
    """`text`'s length as Bluesky counts it: graphemes, links included in full."""
    return graphemes(text)


def _x_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in X_LIGHT_RANGES) else 2


def x_length(text: str) -> int:
    """`text`'s weighted length as X counts it (twitter-text 3): URLs 23, emoji 2, the light
    ranges 1, everything else 2 per code point."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in URL.finditer(text):
        total += _x_plain(text[position:match.start()]) + URL_LENGTH
        position = match.end()
    return total + _x_plain(text[position:])


def _x_plain(text: str) -> int:
    total = 0
    for cluster in GRAPHEME.findall(text):
        if EMOJI.search(cluster):
            total += 2  # the whole sequence, as twitter-text's emoji parsing counts it
        else:
            total += sum(_x_weight(char) for char in cluster)
    return total


LENGTHS = {MASTODON.key: mastodon_length, BLUESKY.key: bluesky_length, X.key: x_length}


def counts(text: str) -> list[Count]:
    """`text` measured for every channel, in the order of CHANNELS."""
    return [Count(channel, LENGTHS[channel.key](text)) for channel in CHANNELS]
