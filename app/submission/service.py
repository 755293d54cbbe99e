"""A form sent twice acts once.

A double tap on a slow phone, a browser retrying, or a script falling back to a plain
submission sends the same create form twice. Each create form carries a one-time token (a
random hidden field, `form_token()` in templates); the route claims the submission before its
service call and settles it with its answer in the same transaction:

    sent = submission.claim(session, token=form_token, form="comment", user_id=user.id,
                            content=[idea_id, body, parent_id])
    if sent.earlier is not None:
        return replay(request, sent.earlier)       # the first one's redirect and message
    comment = service.create_comment(...)
    submission.settle(session, sent, location=..., message=N_("..."), object_id=comment.id)
    session.commit()

Only an identical submission is a repeat: the key is a digest of the token, the form, the
person and what they sent, so someone who goes back, changes the text and sends again
creates a second item, as they meant to.

Parallel identical requests: the claim inserts the key under a unique index before anything
else is written or locked. On PostgreSQL the second insert waits for the first transaction,
then fails once it commits (the second request answers like the first) or goes ahead if it
rolled back (the first created nothing). On SQLite write transactions take turns, so the
second one finds the committed row. A request without a token (an old page, a script) is
carried out as before.
"""

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.submission.models import FormSubmission

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A repeat comes within seconds; a day covers a phone that was offline. The worker prunes.
KEEP = timedelta(days=1)


def new_token() -> str:
    """A fresh one-time token for a form (22 URL-safe characters, 128 random bits)."""
    return secrets.token_urlsafe(16)


@dataclass
class Claim:
    """`row` is this submission's record (None without a valid token); `earlier` is set when
    an identical submission was already carried out: answer with it and change nothing."""

    row: FormSubmission | None = None
    earlier: FormSubmission | None = None


def _digest(value: object) -> object:
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, (list, tuple)):
        return [_digest(v) for v in value]
    return value if value is None or isinstance(value, (int, str)) else str(value)


def submission_key(*, token: str, form: str, user_id: int | None, content: list[Any]) -> str:
    """The SHA-256 (64 hex characters) of the token, the form's name, the person and what
    they sent (strings, numbers, None, bytes such as photos, or lists of these)."""
    canonical = json.dumps([form, user_id, token, _digest(list(content))], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(session: Session, *, token: str, form: str, user_id: int | None, content: list[Any]) -> Claim:
    """Take this submission's turn: call before the service writes or locks anything.

    Returns Claim(earlier=row) when the same submission was carried out before (committed),
    Claim(row=new row) when this one goes ahead (settle it before committing), and Claim()
    when the token is missing or malformed (no protection: the request is carried out)."""
    if not TOKEN_RE.match(token or ""):
        return Claim()
    key = submission_key(token=token, form=form, user_id=user_id, content=content)
    earlier = session.exec(select(FormSubmission).where(FormSubmission.key == key)).first()
    if earlier is not None:
        return Claim(earlier=earlier)
    row = FormSubmission(key=key, user_id=user_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # An identical request committed while this one waited on the unique index.
        earlier = session.exec(select(FormSubmission).where(FormSubmission.key == key)
                               .execution_options(populate_existing=True)).first()
        if earlier is None:
            raise
        return Claim(earlier=earlier)
    return Claim(row=row)


def settle(session: Session, claim: Claim, *, location: str, message: str = "", category: str = "success",
           object_id: int | None = None, params: dict[str, Any] | None = None) -> None:
    """Record how the submission was answered (the redirect `location`, the flashed `message`
    msgid with its `category` and `params`, the created row's id), for a repeat to answer the
    same. Nothing to do without a claimed row."""
    row = claim.row
    if row is None:
        return
    row.location, row.message, row.category = location, message, category
    row.object_id, row.params = object_id, dict(params or {})
    session.add(row)
    session.flush()


def prune(session: Session, older_than: timedelta = KEEP) -> int:
    """Drop records older than `older_than` (the worker, hourly); returns how many."""
    result = session.execute(delete(FormSubmission).where(col(FormSubmission.created_at) < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
