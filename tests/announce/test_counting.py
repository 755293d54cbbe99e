"""Each network's limit counted the way the network counts, on strings whose counts are known."""

import pytest

from app.announce.counting import bluesky_length, counts, graphemes, mastodon_length, x_length

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"  # man, woman, girl, boy joined by ZWJ
LONG_URL = "https://participation.liege.be/calls/parc-de-la-boverie/results?utm_source=mastodon#results-title"


def test_a_url_counts_23_on_mastodon_and_x_and_in_full_on_bluesky() -> None:
    text = f"Résultats : {LONG_URL}"
    assert len(LONG_URL) > 23
    assert mastodon_length(text) == len("Résultats : ") + 23
    assert x_length(text) == len("Résultats : ") + 23
    assert bluesky_length(text) == len(text)
    # A short URL counts 23 too, and a sentence's full stop after it is not part of it.
    assert mastodon_length("Voir http://a.be.") == len("Voir ") + 23 + 1
    assert x_length("Voir http://a.be.") == len("Voir ") + 23 + 1


def test_an_emoji_family_is_one_grapheme_on_bluesky_and_mastodon_and_weighs_two_on_x() -> None:
    assert len(FAMILY) == 7  # seven code points
    assert bluesky_length(FAMILY) == 1
    assert mastodon_length(FAMILY) == 1
    assert x_length(FAMILY) == 2
    assert x_length("🇧🇪") == 2 and bluesky_length("🇧🇪") == 1  # a flag: two regional indicators
    assert x_length("👍🏽") == 2  # with a skin tone


def test_accented_text_counts_one_per_letter_composed_or_not() -> None:
    composed = "Liège, été"
    decomposed = "Lie\u0300ge, e\u0301te\u0301"  # the same text with combining accents
    for text in (composed, decomposed):
        assert bluesky_length(text) == 10
        assert mastodon_length(text) == 10
        assert x_length(text) == 10  # X normalises to NFC first, and Latin letters weigh 1


def test_cjk_weighs_two_on_x_and_one_elsewhere() -> None:
    assert x_length("日本語") == 6
    assert bluesky_length("日本語") == 3
    # The light ranges of twitter-text: curly quotes and dashes (U+2010–U+201F) weigh 1.
    assert x_length("“—”") == 3


def test_a_mastodon_mention_counts_without_its_server() -> None:
    assert mastodon_length("@liege@mastodon.social") == len("@liege")


@pytest.mark.parametrize(("text", "over"), [("a" * 280, set()), ("a" * 281, {"x"}), ("é" * 301, {"x", "bluesky"}),
                                            ("a" * 501, {"x", "bluesky", "mastodon"})])
def test_counts_say_which_channels_are_over_their_limit(text: str, over: set[str]) -> None:
    found = counts(text)
    assert {c.channel.key for c in found if c.over} == over
    assert all(c.remaining == c.channel.limit - c.used for c in found)
    assert graphemes(text) == len(text)
