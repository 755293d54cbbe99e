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

from sqlmodel import Session, col

from app.clock import utcnow
from app.db import insert_on_conflict
from app.deployment.models import DeploymentFact
from app.settings import Settings

FACT = "secret_key_fingerprint"
_LABEL = b"reinventons deployment secret key check"


class SecretKeyMismatch(Exception):
    """This instance's secret key is not the one the deployment's other instances use."""


def fingerprint(key: str) -> str:
    """64 hex characters: HMAC-SHA256 of a fixed label under `key` (the key never leaves)."""
    return hmac.new(key.encode(), _LABEL, hashlib.sha256).hexdigest()


def _write(session: Session, value: str, *, replace: bool) -> str:
    """Write the fingerprint unless another is there (or over it when `replace`) and return the
    one the database holds now. Instances starting together each find no fingerprint and write
    theirs: a plain INSERT made all but the first fail on the primary key (seen on PostgreSQL),
    so the unique key decides at once, waiting for the other transaction (ON CONFLICT)."""
    insert = insert_on_conflict(session, DeploymentFact).values(name=FACT, value=value, updated_at=utcnow())
    if replace:
        statement = insert.on_conflict_do_update(
            index_elements=["name"], set_={"value": value, "updated_at": insert.excluded.updated_at},
            where=col(DeploymentFact.value) != value)
    else:
        statement = insert.on_conflict_do_nothing(index_elements=["name"])
    session.execute(statement)
    session.expire_all()
    fact = session.get(DeploymentFact, FACT)
    assert fact is not None  # written above, or by the transaction the insert waited for
    return fact.value


def record(session: Session, settings: Settings) -> None:
    """Make this instance's key the deployment's (the deliberate step: `reinventons migrate`,
    also after rotating the key). The caller commits."""
    _write(session, fingerprint(settings.resolved_secret_key), replace=True)


def check(session: Session, settings: Settings) -> None:
    """Accept this instance's key if the deployment has none yet (recording it) or the same one.

    Raises SecretKeyMismatch with the message to show the operator otherwise. The caller commits."""
    mine = fingerprint(settings.resolved_secret_key)
    fact = session.get(DeploymentFact, FACT)
    held = fact.value if fact is not None else _write(session, mine, replace=False)
    if hmac.compare_digest(held, mine):
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
