"""The strings one edit from a query word (app.search.typos), which SQLite's backend looks up
among the indexed words, and the choice among those found."""

from app.search.typos import alphabet, closest, one_edit_away


def test_every_kind_of_one_letter_typo_is_one_edit_away() -> None:
    near = one_edit_away("ecole")
    assert {"ecolle", "ecle", "ecoke", "eocle", "ecoel", "becole", "ecoles"} <= near
    assert "ecole" not in near
    assert "ecolles" not in near and "eoclle" not in near  # two edits
    assert alphabet("ecole") == "0123456789abcdefghijklmnopqrstuvwxyz"  # folded: no "é" to try


def test_letters_of_other_scripts_come_from_the_word_s_own_block() -> None:
    assert "ц" in alphabet("улица") and "ц" not in alphabet("ulitsa")
    assert "улицы" in one_edit_away("улица")
    assert "straßen" in one_edit_away("straße")
    assert "ß" in alphabet("straße") and "É" not in alphabet("straße")  # lower case only, as words are folded


def test_the_most_common_word_then_the_first_alphabetically_is_chosen() -> None:
    assert closest({"parc": 3, "pare": 9, "part": 9}) == "pare"
    assert closest({"marchant": 1, "marchand": 1}) == "marchand"
    assert closest({"marchand": 0}) is None and closest({}) is None


def test_a_word_mixing_scripts_gets_the_letters_of_its_first_block_only() -> None:
    """A search word of 41 ideographs, each of another block of 128 code points, was 438,000
    strings to look up (5 million, 4 s of CPU, for a query of twelve such words): one block's
    letters are tried, as for any word of one script."""
    mixed = "".join(chr(0x4E00 + 128 * i) for i in range(41))
    assert alphabet(mixed) == alphabet(mixed[0])
    assert len(alphabet(mixed)) <= 36 + 128
    assert len(one_edit_away(mixed)) <= (2 * len(mixed) + 1) * len(alphabet(mixed)) + 2 * len(mixed)
    assert "ц" in alphabet("улицаß") and "ß" not in alphabet("улицаß")
