"""Channel secrets encrypted at rest: tokens and passwords are stored as a Fernet token
(AES-128-CBC with HMAC-SHA256, from the `cryptography` package) under a key derived from the
platform's secret (REINVENTONS_SECRET_KEY) with HKDF-SHA256 and a purpose of its own, so that
the database alone does not give them away and no other use of the secret shares the key."""

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings

PURPOSE = b"reinventons channel secrets v1"


class SealBroken(Exception):  # noqa: N818 - a state, shown to administrators
    """The stored secrets cannot be read: the platform's secret changed since they were saved."""


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        settings.resolved_secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(settings: Settings, secrets: dict[str, str]) -> str:
    """`secrets` (name → value) as an encrypted, authenticated ASCII token; "" for none."""
    if not secrets:
        return ""
    return _fernet(settings).encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def unseal(settings: Settings, sealed: str) -> dict[str, str]:
    """The secrets `seal` stored in `sealed` ({} for ""). Raises SealBroken when the token was
    made under another secret or altered."""
    if not sealed:
        return {}
    try:
        value = json.loads(_fernet(settings).decrypt(sealed.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SealBroken("the channel's secrets cannot be read with the current secret key") from exc
    return {str(k): str(v) for k, v in value.items()}
