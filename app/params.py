"""Reading numbers that people (or scripts) put in paths, forms and query strings.

Every id column is an `integer` (32 bits on PostgreSQL; SQLite would take 64): a number past
`MAX_DB_INT` names nothing, and sent to PostgreSQL it would fail instead of finding nothing. The
path guard (`app.security.bounded_ids`) and every form or query field read here use this bound."""

MAX_DB_INT = 2**31 - 1


def parse_number(value: str | None, maximum: int) -> int | None:
    """A whole number from 1 to `maximum`, or None for anything else (empty, words, signs,
    '²' and other non-ASCII digits, numbers past the maximum)."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if 0 < number <= maximum else None


def parse_id(value: str | None) -> int | None:
    """A positive whole number that fits an id column (at most `MAX_DB_INT`), or None."""
    return parse_number(value, MAX_DB_INT)
