"""Every instance of a deployment signs with the same secret key, or does not start.

CSRF tokens, flash cookies and unsubscribe links are signed with the secret key: behind a load
balancer, a form shown by one machine is posted to another, which must accept its token. A key
generated into one machine's DATA_DIR (the single-server default) is different on the next
machine, and the symptom would be random "session expired" refusals. So the database keeps a
fingerprint of the key (an HMAC of a fixed label, from which the key cannot be recovered):
`reinventons migrate` — the deployment step — records it, and `serve`, `worker` and `demo` refuse
to start with a key that does not match."""

import hashlib
import hmac

from sqlmodel import Session

from app.clock import utcnow
from app.deployment.models import DeploymentFact
from app.settings import Settings

FACT = "secret_key_fingerprint"
_LABEL = b"reinventons deployment secret key check"


class SecretKeyMismatch(Exception):
    """This instance's secret key is not the one the deployment's other instances use."""


def fingerprint(key: str) -> str:
    """64 hex characters: HMAC-SHA256 of a fixed label under `key` (the key never leaves)."""
    return hmac.new(key.encode(), _LABEL, hashlib.sha256).hexdigest()


def record(session: Session, settings: Settings) -> None:
    """Make this instance's key the deployment's (the deliberate step: `reinventons migrate`,
    also after rotating the key). The caller commits."""
    fact = session.get(DeploymentFact, FACT)
    value = fingerprint(settings.resolved_secret_key)
    if fact is None:
        session.add(DeploymentFact(name=FACT, value=value, updated_at=utcnow()))
    elif fact.value != value:
        fact.value, fact.updated_at = value, utcnow()
        session.add(fact)


def check(session: Session, settings: Settings) -> None:
    """Accept this instance's key if the deployment has none yet (recording it) or the same one.

    Raises SecretKeyMismatch with the message to show the operator otherwise. The caller commits."""
    fact = session.get(DeploymentFact, FACT)
    if fact is None:
        record(session, settings)
        return
    if hmac.compare_digest(fact.value, fingerprint(settings.resolved_secret_key)):
        return
    if settings.secret_key:
        raise SecretKeyMismatch(
            "REINVENTONS_SECRET_KEY differs from the secret key the other instances of this platform "
            "use with this database. Give every web process and worker the same REINVENTONS_SECRET_KEY; "
            "if you changed it on purpose, stop every instance and run `reinventons migrate` first.")
    raise SecretKeyMismatch(
        f"This instance generated its own secret key (in {settings.data_dir / 'secret_key'}), but "
        "another instance with another key already uses this database. When several machines run "
        "the platform, set REINVENTONS_SECRET_KEY to one value on every instance (a long random "
        "string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(48))'`).")
