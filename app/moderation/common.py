"""What the moderation decisions share: the public history of an idea, the row lock, the
pseudo-statuses of events that do not change a status, and the checks on a moderator's text.

Every decision writes exactly one audit entry (app.audit.record) and, when it concerns an idea,
one public IdeaStatusChange carrying the why. Services validate, write and flush; routes check
permissions (app.authz) and commit.
"""

from sqlmodel import Session

from app.account.models import User
from app.errors import ValidationFailed
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus, IdeaStatusChange

# Pseudo-statuses of the public history for events that do not change the status.
HISTORY_HIDDEN = "hidden"
HISTORY_RESTORED = "restored"
HISTORY_ANSWERED = "answered"
HISTORY_SHORTLISTED = "shortlisted"  # written when the results are published
HISTORY_WINNER = "winner"
# Hiding and restoring apply to ideas that were sent to moderators or published.
HIDEABLE = frozenset({IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published,
                      IdeaStatus.rejected, IdeaStatus.merged})

MAX_REASON = 2000


def add_history(session: Session, idea: Idea, actor: User, from_status: str | None, to_status: str,
                note: str = "") -> None:
    """Add one line to the idea's public status history: `from_status` -> `to_status` (a status
    or a HISTORY_* pseudo-status), by `actor`, with `note` (plain text, escaped on output)."""
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=actor.id, from_status=from_status,
                                 to_status=to_status, note=note))


def clean_text(text: str, *, field: str, required: bool, limit: int = MAX_REASON,
               message: str = N_("Please give a reason.")) -> str:
    """The moderator's text stripped. Raises ValidationFailed on `field` with `message` when it
    is required and shorter than 2 characters, or with "too long" past `limit` characters."""
    text = (text or "").strip()
    if required and len(text) < 2:
        raise ValidationFailed({field: message})
    if len(text) > limit:
        raise ValidationFailed({field: N_("This text is too long.")})
    return text


def lock_idea(session: Session, idea: Idea) -> Idea:
    """Reload the idea under a row lock, so two moderators cannot decide on it at once."""
    session.refresh(idea, with_for_update=True)
    return idea
