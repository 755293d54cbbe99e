"""The one call every change of an idea makes so that search catches up: `reindex_later`.

Kept apart from the index itself (app.search.indexing) so that domains can import it without
importing the search engines. Called wherever an idea's words or public visibility change:
app.idea.service (create, submit, edit, withdraw: `record_change`, `update_idea`),
app.moderation.idea_decisions (every status decision, hide, restore, merge),
app.moderation.bans (ideas hidden with their author), app.report.service (hidden by reports),
app.idea.privacy (an author's erasure)."""

from sqlmodel import Session

from app.outbox import service as outbox

REINDEX_KIND = "search.reindex_idea"


def reindex_later(session: Session, idea_id: int | None) -> None:
    """Queue "reindex idea `idea_id`" in the caller's transaction (nothing for an unsaved idea).
    The worker reads the idea when it runs, so several messages for one idea do no harm."""
    if idea_id is not None:
        outbox.enqueue(session, REINDEX_KIND, {"idea_id": idea_id})
