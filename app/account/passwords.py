"""Password hashing (argon2id) and the only password rule: long enough and not common.

NIST SP 800-63B: a minimum length, no composition rules, and a check against passwords
known to be common. The list below holds the common ones long enough to pass the length rule.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.i18n import N_

MIN_LENGTH = 10
MAX_LENGTH = 200

_hasher = PasswordHasher()

COMMON_PASSWORDS = frozenset(
    """
    1234567890 0123456789 12345678910 123456789a 1234567891 0987654321 1111111111 0000000000
    123123123123 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc qwertyuiop azertyuiop qwertzuiop password123
    password1234 password12 passw0rd123 motdepasse motdepasse1 motdepasse123 wachtwoord1
    wachtwoord123 passwort123 passwort1234 iloveyou123 iloveyou12 jetaime123 football123
    baseball123 sunshine123 princess123 starwars123 superman123 letmein123 welcome123 welcome1234
    bienvenue1 bienvenue123 administrator admin12345 admin123456 qwerty1234 qwerty12345
    qwerty123456 azerty1234 azerty12345 azerty123456 abcdefghij abc1234567 abcd123456 aaaaaaaaaa
    zzzzzzzzzz trustno1234 dragon1234 master1234 monkey1234 changeme123 changeme12 liege12345
    liège12345 belgique123 belgium123 bruxelles1 reinventons reinventons1 reinventons123 password
    password1 1234512345 5555555555 9876543210 1122334455 1212121212 6969696969 asdfghjkl1
    asdfghjkl123 zxcvbnm123 qazwsxedcrfv 1q2w3e4r5t6y7u qwerty123qwerty michael123 jennifer123
    computer123 internet123 samsung123 whatever12 nicolas123 chocolat123 soleil1234 doudou1234
    """.split()
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """An English msgid explaining why the password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return N_("Your password must be at least 10 characters long.")
    if len(password) > MAX_LENGTH:
        return N_("Your password must be at most 200 characters long.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        return N_("This password is too common. Please choose another one.")
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        return N_("Your password must not be your e-mail address.")
    if name and lowered == name.lower():
        return N_("Your password must not be your name.")
    return None


# A real hash, so that checking a password for an unknown e-mail costs the same time.
DUMMY_HASH = _hasher.hash("not-a-real-password-timing-equaliser")
