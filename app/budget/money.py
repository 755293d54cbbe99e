"""Whole euros read from forms and written for people."""

from app.i18n import format_number

# The largest amount a column holds (a signed 32-bit integer), in whole euros.
MAX_EUR = 2_000_000_000


def parse_euros(text: str) -> int | None:
    """A whole number of euros typed by a person: digits, with spaces, dots or commas between
    the thousands ("12 500", "12.500", "12,500") and an optional "€". Returns None for anything
    else, a negative or a decimal amount ("12,50"), or an amount past `MAX_EUR`."""
    cleaned = text.replace("€", "").replace("\u202f", "").replace("\u00a0", "").replace(" ", "").strip()
    groups = cleaned.replace(",", ".").split(".")
    if len(groups) > 1 and any(len(g) != 3 for g in groups[1:]):
        return None  # "12,50" is a decimal amount, not twelve hundred and fifty
    digits = "".join(groups)
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 10:
        return None
    value = int(digits)
    return value if value <= MAX_EUR else None


def euros(amount: int) -> str:
    """`amount` whole euros as the reader's language writes them ("12 500 €", "€12,500")."""
    return format_number(amount) + "\u00a0€"
