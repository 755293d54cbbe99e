"""An idea's public history: what each line says happened (the idea page and the moderators'
view of an idea both label status changes with `history_label`, a template filter), and the
lines of the idea page, where the edits of its wording since publication sit among the status
changes (`history`)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.account.models import User
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus, IdeaStatusChange
from app.idea.versions import VersionView, version_views

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
    "winner": N_("Selected"),  # the glossary's word for the city's choice (docs/glossary.md)
    "feasible": N_("Technical review: feasible, estimated cost"),  # app.budget.review
    "not_feasible": N_("Technical review: not feasible"),
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


@dataclass
class HistoryEntry:
    """One line of the public history: a status change (`change`), or an edit of the wording
    (`edit`: what changed, and the previous wording). `actor_name` is who did it, by their
    current name; None for the system or a deleted account ("a former member")."""

    at: datetime
    actor_name: str | None
    change: IdeaStatusChange | None = None
    edit: VersionView | None = None

    @property
    def label(self) -> str:
        """What happened, as an English msgid (translated where shown)."""
        if self.edit is not None:
            return self.edit.label
        assert self.change is not None
        return history_label(self.change)

    @property
    def note(self) -> str:
        """The public reason given with a status change (plain text); empty for an edit."""
        return self.change.note if self.change is not None else ""


def history(session: Session, idea: Idea) -> list[HistoryEntry]:
    """The idea's public history, oldest first: its status changes, and the edits of its
    wording made while it was published (app.idea.versions; the edits made before, while only
    moderators could read it, are theirs to see). An edit and a change at the same moment list
    the edit first: an edit that sends the idea back to moderation happened before the move."""
    assert idea.id is not None
    rows = session.exec(
        select(IdeaStatusChange, User.display_name).outerjoin(User, col(User.id) == IdeaStatusChange.actor_id)
        .where(IdeaStatusChange.idea_id == idea.id).order_by(col(IdeaStatusChange.created_at), col(IdeaStatusChange.id))
    ).all()
    entries = [HistoryEntry(at=change.created_at, actor_name=name, change=change) for change, name in rows]
    edits = [HistoryEntry(at=view.version.created_at, actor_name=view.editor_name, edit=view)
             for view in version_views(session, idea.id, public_only=True)]
    # A stable sort: each kind keeps its own order, and an edit goes before a change of its moment.
    return sorted(edits + entries, key=lambda entry: entry.at)
