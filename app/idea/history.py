"""What each line of an idea's public history says happened (the idea page and the moderators'
view of an idea both label it with `history_label`, a template filter)."""

from app.i18n import N_
from app.idea.models import IdeaStatus, IdeaStatusChange

# What each line of an idea's public history says happened. Keyed by the status the line
# moved to; a few moves need their origin too (see `history_label`).
HISTORY_LABELS = {
    IdeaStatus.draft: N_("Created"),
    IdeaStatus.submitted: N_("Submitted for moderation"),
    IdeaStatus.changes_requested: N_("Changes requested"),
    IdeaStatus.published: N_("Published"),
    IdeaStatus.rejected: N_("Rejected"),
    IdeaStatus.withdrawn: N_("Withdrawn by its author"),
    IdeaStatus.merged: N_("Merged into another idea"),
    "hidden": N_("Hidden by moderation"),
    "restored": N_("Visible again"),
    "answered": N_("Official answer"),
    "shortlisted": N_("Shortlisted"),
    "winner": N_("Winner"),
}


def history_label(change: IdeaStatusChange) -> str:
    """What a history line records, as an English msgid (translated where shown).

    The label follows the event (`to_status`), never the mere absence of a previous status:
    a first official answer has no previous answer, and is still an answer, not a creation."""
    to_status, from_status = change.to_status, change.from_status
    if to_status == IdeaStatus.submitted and from_status == IdeaStatus.changes_requested:
        return N_("Submitted again after the requested changes")
    if to_status == IdeaStatus.submitted and from_status == IdeaStatus.published:
        return N_("Held for moderation after an edit")
    if to_status == "answered" and from_status is not None:
        return N_("Official answer changed")
    return HISTORY_LABELS.get(to_status, N_("Status changed"))
