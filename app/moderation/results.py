"""Review and results: the jury's selection during the review phase, the ranking it works
from, and publishing the results, which makes the selection public and opens the results phase.
"""

from typing import Any

from sqlmodel import Session, col, select

from app.account.models import User
from app.audit import AuditAction, AuditEntry, TargetType, record
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import InvalidTransition
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.moderation import notices
from app.moderation.common import HISTORY_SHORTLISTED, HISTORY_WINNER, MAX_REASON, add_history, clean_text, lock_idea
from app.settings import Settings


def set_selection(session: Session, *, actor: User, idea: Idea, call: Call, shortlisted: bool, winner: bool,
                  jury_note: str) -> AuditEntry:
    """Put a published, visible idea of `call` on the shortlist and/or among the winners (a winner
    is always shortlisted), with the jury's note; private until the results are published.
    Returns the audit entry (before/after in its details).

    Raises ValidationFailed ("jury_note" too long) or InvalidTransition (not the review phase,
    an idea that is not published and visible, or nothing changed)."""
    jury_note = clean_text(jury_note, field="jury_note", required=False, limit=MAX_REASON)
    if current_phase(call) != Phase.review:
        raise InvalidTransition(N_("Ideas are selected during the review phase only."))
    lock_idea(session, idea)
    if idea.status != IdeaStatus.published or idea.hidden_at is not None:
        raise InvalidTransition(N_("Only published ideas can be selected."))
    shortlisted = shortlisted or winner  # a winner is always on the shortlist
    before = {"shortlisted": idea.shortlisted, "winner": idea.winner, "jury_note": idea.jury_note}
    after = {"shortlisted": shortlisted, "winner": winner, "jury_note": jury_note}
    if before == after:
        raise InvalidTransition(N_("Nothing changed."))
    idea.shortlisted, idea.winner, idea.jury_note = shortlisted, winner, jury_note
    idea.updated_at = utcnow()
    session.add(idea)
    assert idea.id is not None

    def label(values: dict[str, Any]) -> str:
        return "winner" if values["winner"] else "shortlisted" if values["shortlisted"] else "none"

    return record(session, actor=actor, action=AuditAction.selection, target_type=TargetType.idea,
                  target_id=idea.id, reason=jury_note, from_status=label(before), to_status=label(after),
                  details={"before": before, "after": after})


def review_ranking(session: Session, call: Call) -> list[Idea]:
    """The call's public ideas, most supported first (ties: the earliest published)."""
    return list(session.exec(
        select(Idea).where(Idea.call_id == call.id, Idea.status == IdeaStatus.published,
                           col(Idea.hidden_at).is_(None))
        .order_by(col(Idea.vote_count).desc(), col(Idea.published_at).asc(), col(Idea.id).asc())
    ).all())


NO_WINNER = N_("Mark at least one idea as selected before publishing the results.")


def selection(session: Session, call: Call) -> tuple[list[Idea], list[Idea]]:
    """The ideas of `call` that publishing its results makes public: (winners, the most
    supported first; every shortlisted idea, winners included), published and not hidden only."""
    visible = (Idea.call_id == call.id, Idea.status == IdeaStatus.published, col(Idea.hidden_at).is_(None))
    winners = list(session.exec(select(Idea).where(*visible, col(Idea.winner).is_(True))
                                .order_by(col(Idea.vote_count).desc(), col(Idea.id))).all())
    shortlisted = list(session.exec(select(Idea).where(*visible, col(Idea.shortlisted).is_(True))
                                    .order_by(col(Idea.vote_count).desc(), col(Idea.id))).all())
    return winners, shortlisted


def publish_results(session: Session, *, actor: User, call: Call, settings: Settings) -> AuditEntry:
    """End the review phase of `call`: the call moves to the results phase, each shortlisted idea
    gets a public history line (winner or shortlisted, with the jury's note), and everyone who
    follows one of its ideas is told. Returns the audit entry (the winners' and the shortlisted
    ideas' ids in its details).

    Raises InvalidTransition outside the review phase or when no winner is marked."""
    session.refresh(call, with_for_update=True)
    phase = current_phase(call)
    if phase != Phase.review:
        raise InvalidTransition(N_("Results are published at the end of the review phase."))
    winners, shortlisted = selection(session, call)
    if not winners:
        raise InvalidTransition(NO_WINNER)
    call.phase_override = Phase.results
    call.updated_at = utcnow()
    session.add(call)
    # The selection becomes public now, in each selected idea's history, with the jury's note.
    for idea in shortlisted:
        add_history(session, idea, actor, idea.status, HISTORY_WINNER if idea.winner else HISTORY_SHORTLISTED,
                    idea.jury_note)
    assert call.id is not None
    entry = record(session, actor=actor, action=AuditAction.publish_results, target_type=TargetType.call,
                   target_id=call.id, from_status=phase, to_status=Phase.results,
                   details={"winners": [i.id for i in winners], "shortlisted": [i.id for i in shortlisted]})
    notices.results_published(session, settings, call=call, actor=actor)
    return entry
