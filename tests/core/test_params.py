import pytest

from app.params import MAX_DB_INT, parse_id, parse_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 7 ", 7), ("2147483647", 2147483647), ("2147483648", None), ("99999999999", None),
     ("0", None), ("-3", None), ("+3", None), ("1.5", None), ("²", None), ("١٢", None), ("", None), (None, None),
     ("abc", None), ("1e3", None)],
)
def test_parse_id_accepts_only_ids_a_database_can_hold(raw: str | None, expected: int | None) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("30", 30), ("36500", 36500), ("36501", None), ("2147483647", None),
                                               ("0", None), ("-1", None), ("²", None), ("", None)])
def test_parse_number_keeps_to_its_maximum(raw: str, expected: int | None) -> None:
    assert parse_number(raw, 36_500) == expected


def test_the_path_guard_and_the_form_parser_agree_on_the_largest_id() -> None:
    assert MAX_DB_INT == 2**31 - 1  # PostgreSQL's integer, the type of every id column
    assert parse_id(str(MAX_DB_INT)) == MAX_DB_INT
    assert parse_id(str(MAX_DB_INT + 1)) is None
