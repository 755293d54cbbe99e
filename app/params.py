"""Reading numbers that people (or scripts) put in forms and query strings."""

# PostgreSQL's integer: a larger id would fail in the database instead of finding nothing.
MAX_DB_INT = 2**31 - 1


def parse_id(value: str | None) -> int | None:
    """A positive whole number that fits a database integer, or None for anything else
    (empty, words, signs, '²' and other non-ASCII digits, huge numbers)."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_DB_INT else None
