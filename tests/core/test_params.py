import pytest

from app.params import parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 7 ", 7), ("2147483647", 2147483647), ("2147483648", None), ("99999999999", None),
     ("0", None), ("-3", None), ("+3", None), ("1.5", None), ("²", None), ("١٢", None), ("", None), (None, None),
     ("abc", None), ("1e3", None)],
)
def test_parse_id_accepts_only_ids_a_database_can_hold(raw: str | None, expected: int | None) -> None:
    assert parse_id(raw) == expected
