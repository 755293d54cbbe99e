"""Moderator decisions on ideas and comments, official answers, selection, results, bans.

Every decision writes exactly one AuditEntry (who, when, what, why, before/after) and, when it
concerns an idea, one public IdeaStatusChange carrying the why; then tells the people concerned
(app.moderation.notices). Services validate, write and flush; routes check permissions
(app.authz) and commit. The audit log is append-only: `record` is the only writer.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.comment.models import Comment
from app.errors import Conflict, InvalidTransition, ValidationFailed
from app.follow.models import Follow
from app.i18n import N_, translate
from app.idea.models import ANSWER_LABELS, AnswerStatus, Idea, IdeaStatus, IdeaStatusChange
from app.moderation import notices
from app.moderation.models import AuditAction, AuditEntry, TargetType
from app.report.models import Report
from app.richtext import render_markdown
from app.settings import Settings
from app.vote.models import Vote

# The moderator's transitions of an idea's status: action -> (allowed from, to).
# The author's own transitions (draft -> submitted/published, resubmission, withdrawal) live in
# app.idea.service.
MODERATOR_TRANSITIONS: dict[str, tuple[frozenset[str], IdeaStatus]] = {
    AuditAction.approve: (frozenset({IdeaStatus.submitted}), IdeaStatus.published),
    AuditAction.request_changes: (frozenset({IdeaStatus.submitted, IdeaStatus.published}),
                                  IdeaStatus.changes_requested),
    AuditAction.reject: (frozenset({IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published}),
                         IdeaStatus.rejected),
    AuditAction.merge: (frozenset({IdeaStatus.submitted, IdeaStatus.published}), IdeaStatus.merged),
}
# Pseudo-statuses of the public history for events that do not change the status.
HISTORY_HIDDEN = "hidden"
HISTORY_RESTORED = "restored"
HISTORY_ANSWERED = "answered"
HISTORY_SHORTLISTED = "shortlisted"  # written when the results are published
HISTORY_WINNER = "winner"
# Hiding and restoring apply to ideas that were sent to moderators or published.
HIDEABLE = frozenset({IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published,
                      IdeaStatus.rejected, IdeaStatus.merged})


# Common rejection reasons, offered as a choice; the moderator may add to them or write their own.
REJECTION_REASONS = {
    "duplicate": N_("A very similar idea has already been proposed."),
    "off_topic": N_("This idea does not match the theme of the call."),
    "not_municipal": N_("This idea is outside the city's competences."),
    "charter": N_("This idea does not respect the participation charter."),
    "unclear": N_("This idea is not described clearly enough to be studied."),
    "personal_data": N_("This idea contains personal data about other people."),
}

MAX_REASON = 2000
MAX_ANSWER = 10000


@dataclass
class Decision:
    """What a decision did, for the route's flash message and redirect."""

    idea: Idea
    audit: AuditEntry


def record(session: Session, *, actor: User | None, action: str, target_type: str, target_id: int,
           reason: str = "", from_status: str | None = None, to_status: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry to the audit log. The application never updates or deletes one."""
    entry = AuditEntry(actor_id=actor.id if actor else None, action=action, target_type=target_type,
                       target_id=target_id, reason=reason, from_status=from_status, to_status=to_status,
                       details=details or {})
    session.add(entry)
    session.flush()
    return entry


def add_history(session: Session, idea: Idea, actor: User, from_status: str | None, to_status: str,
             note: str = "") -> None:
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=actor.id, from_status=from_status,
                                 to_status=to_status, note=note))


def clean_text(text: str, *, field: str, required: bool, limit: int = MAX_REASON,
                message: str = N_("Please give a reason.")) -> str:
    text = (text or "").strip()
    if required and len(text) < 2:
        raise ValidationFailed({field: message})
    if len(text) > limit:
        raise ValidationFailed({field: N_("This text is too long.")})
    return text


def _lock(session: Session, idea: Idea) -> Idea:
    """Reload the idea under a row lock, so two moderators cannot decide on it at once."""
    session.refresh(idea, with_for_update=True)
    return idea


def _transition(session: Session, idea: Idea, action: str, expected: str | None = None) -> tuple[str, IdeaStatus]:
    """Check the move against the table. `expected` is the status the moderator saw: if someone
    else decided in the meantime, the decision is refused rather than applied to a new state."""
    allowed, target = MODERATOR_TRANSITIONS[action]
    if expected and idea.status != expected:
        raise Conflict(N_("Someone else decided on this idea in the meantime. Please look at it again."))
    if idea.status not in allowed:
        raise InvalidTransition(N_("This decision is not possible for an idea in this state."))
    return idea.status, target


def _set_status(idea: Idea, status: IdeaStatus) -> None:
    now = utcnow()
    idea.status = status
    idea.updated_at = now
    if status == IdeaStatus.published and idea.published_at is None:
        idea.published_at = now


def _resolve_reports(session: Session, *, target_type: str, target_id: int, actor: User, resolution: str) -> int:
    """Close the open reports on an item. Only reports made after this count again, which is
    how a restored item escapes being hidden again by the reports that hid it."""
    result = session.execute(
        update(Report)
        .where(col(Report.target_type) == target_type, col(Report.target_id) == target_id,
               col(Report.resolved_at).is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution=resolution)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- Decisions on ideas -------------------------------------------------------------------

def _decide(session: Session, *, actor: User, idea: Idea, action: str, settings: Settings,
            expected: str | None, reason: str = "") -> Decision:
    """A moderator's status decision on an idea: the row locked, the transition checked
    against the table, one public history line, one audit entry, the people told."""
    _lock(session, idea)
    before, after = _transition(session, idea, action, expected)
    _set_status(idea, after)
    session.add(idea)
    add_history(session, idea, actor, before, after, reason)
    assert idea.id is not None
    entry = record(session, actor=actor, action=action, target_type=TargetType.idea, target_id=idea.id,
                   reason=reason, from_status=before, to_status=after)
    notices.idea_decision(session, settings, idea=idea, actor=actor, event=action, note=reason)
    return Decision(idea, entry)


def approve_idea(session: Session, *, actor: User, idea: Idea, settings: Settings,
                 expected: str | None = None) -> Decision:
    return _decide(session, actor=actor, idea=idea, action=AuditAction.approve, settings=settings,
                   expected=expected)


def request_changes(session: Session, *, actor: User, idea: Idea, message: str, settings: Settings,
                    expected: str | None = None) -> Decision:
    message = clean_text(message, field="message", required=True,
                         message=N_("Please tell the author what to change."))
    return _decide(session, actor=actor, idea=idea, action=AuditAction.request_changes, settings=settings,
                   expected=expected, reason=message)


def rejection_reason(template: str, text: str, lang: str) -> str:
    """The full reason: the chosen common reason (in the moderator's language), then their words."""
    if template and template not in REJECTION_REASONS:
        raise ValidationFailed({"reason_template": N_("Please choose a reason from the list.")})
    parts = [translate(lang, REJECTION_REASONS[template])] if template else []
    text = (text or "").strip()
    if text:
        parts.append(text)
    return "\n\n".join(parts)


def reject_idea(session: Session, *, actor: User, idea: Idea, reason: str, settings: Settings,
                expected: str | None = None) -> Decision:
    reason = clean_text(reason, field="reason", required=True,
                        message=N_("Please choose or write the reason for the rejection."))
    return _decide(session, actor=actor, idea=idea, action=AuditAction.reject, settings=settings,
                   expected=expected, reason=reason)


def hide_idea(session: Session, *, actor: User, idea: Idea, reason: str, settings: Settings) -> Decision:
    reason = clean_text(reason, field="reason", required=True)
    _lock(session, idea)
    if idea.hidden_at is not None or idea.status not in HIDEABLE:
        raise InvalidTransition(N_("This idea is already hidden."))
    idea.hidden_at = utcnow()
    idea.updated_at = idea.hidden_at
    session.add(idea)
    assert idea.id is not None
    resolved = _resolve_reports(session, target_type=TargetType.idea, target_id=idea.id, actor=actor,
                                resolution="hidden")
    add_history(session, idea, actor, idea.status, HISTORY_HIDDEN, reason)
    entry = record(session, actor=actor, action=AuditAction.hide, target_type=TargetType.idea, target_id=idea.id,
                   reason=reason, from_status=idea.status, to_status=HISTORY_HIDDEN,
                   details={"reports_resolved": resolved})
    notices.idea_decision(session, settings, idea=idea, actor=actor, event="hide", note=reason)
    return Decision(idea, entry)


def restore_idea(session: Session, *, actor: User, idea: Idea, reason: str = "", settings: Settings) -> Decision:
    reason = clean_text(reason, field="reason", required=False)
    _lock(session, idea)
    if idea.hidden_at is None:
        raise InvalidTransition(N_("This idea is not hidden."))
    idea.hidden_at = None
    idea.updated_at = utcnow()
    idea.report_count = 0
    session.add(idea)
    assert idea.id is not None
    resolved = _resolve_reports(session, target_type=TargetType.idea, target_id=idea.id, actor=actor,
                                resolution="restored")
    add_history(session, idea, actor, HISTORY_HIDDEN, HISTORY_RESTORED, reason)
    entry = record(session, actor=actor, action=AuditAction.restore, target_type=TargetType.idea,
                   target_id=idea.id, reason=reason, from_status=HISTORY_HIDDEN, to_status=idea.status,
                   details={"reports_resolved": resolved})
    notices.idea_decision(session, settings, idea=idea, actor=actor, event="restore", note=reason)
    return Decision(idea, entry)


def dismiss_reports(session: Session, *, actor: User, target_type: str, target_id: int) -> AuditEntry:
    """The reports on a visible item were unfounded: close them, change nothing else."""
    resolved = _resolve_reports(session, target_type=target_type, target_id=target_id, actor=actor,
                                resolution="dismissed")
    if not resolved:
        raise InvalidTransition(N_("There are no open reports on this item."))
    if target_type == TargetType.idea:
        session.execute(update(Idea).where(col(Idea.id) == target_id).values(report_count=0))
    else:
        session.execute(update(Comment).where(col(Comment.id) == target_id).values(report_count=0))
    return record(session, actor=actor, action="dismiss_reports", target_type=target_type, target_id=target_id,
                  details={"reports_resolved": resolved})


# --- Merging duplicates ------------------------------------------------------------------

def merge_ideas(session: Session, *, actor: User, source: Idea, target: Idea, note: str,
                settings: Settings, expected: str | None = None) -> Decision:
    """Fold the duplicate `source` into `target`: votes and followers move (a citizen who
    supported both keeps one vote), counters are recounted from the rows, both authors are
    told, and `source` points at `target` so its page redirects there."""
    note = clean_text(note, field="note", required=False)
    if source.id == target.id:
        raise ValidationFailed({"target_id": N_("An idea cannot be merged into itself.")})
    if source.call_id != target.call_id:
        raise ValidationFailed({"target_id": N_("Both ideas must belong to the same call.")})
    # Lock both rows in a fixed order so that two merges cannot deadlock.
    for idea in sorted((source, target), key=lambda i: i.id or 0):
        _lock(session, idea)
    if target.status != IdeaStatus.published or target.hidden_at is not None:
        raise ValidationFailed({"target_id": N_("The idea to merge into must be published and visible.")})
    before, after = _transition(session, source, AuditAction.merge, expected)
    assert source.id is not None and target.id is not None
    # Votes: move those of people who did not support the target yet, drop the duplicates.
    target_voters = select(Vote.user_id).where(Vote.idea_id == target.id)
    moved_votes = session.execute(
        update(Vote).where(col(Vote.idea_id) == source.id, col(Vote.user_id).not_in(target_voters))
        .values(idea_id=target.id, category_id=target.category_id)
    ).rowcount or 0  # type: ignore[attr-defined]
    dropped_votes = session.execute(delete(Vote).where(col(Vote.idea_id) == source.id)).rowcount or 0  # type: ignore[attr-defined]
    target_followers = select(Follow.user_id).where(Follow.idea_id == target.id)
    session.execute(update(Follow).where(col(Follow.idea_id) == source.id,
                                         col(Follow.user_id).not_in(target_followers))
                    .values(idea_id=target.id))
    session.execute(delete(Follow).where(col(Follow.idea_id) == source.id))
    for idea_id in (source.id, target.id):
        session.execute(update(Idea).where(col(Idea.id) == idea_id).values(
            vote_count=select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id).scalar_subquery(),
            follower_count=select(func.count()).select_from(Follow).where(Follow.idea_id == idea_id)
            .scalar_subquery(),
        ))
    session.refresh(target)
    _set_status(source, after)
    source.merged_into_id = target.id
    source.vote_count = 0
    source.follower_count = 0
    session.add(source)
    add_history(session, source, actor, before, after, note)
    entry = record(session, actor=actor, action=AuditAction.merge, target_type=TargetType.idea, target_id=source.id,
                   reason=note, from_status=before, to_status=after,
                   details={"into": target.id, "votes_moved": int(moved_votes), "votes_merged": int(dropped_votes)})
    notices.idea_decision(session, settings, idea=source, actor=actor, event="merged_source", note=note,
                          link_idea=target)
    notices.idea_decision(session, settings, idea=target, actor=actor, event="merged_target", note=note)
    return Decision(source, entry)


# --- Comments -----------------------------------------------------------------------------

def hide_comment(session: Session, *, actor: User, comment: Comment, reason: str) -> AuditEntry:
    reason = clean_text(reason, field="reason", required=True)
    session.refresh(comment, with_for_update=True)
    if comment.hidden_at is not None:
        raise InvalidTransition(N_("This comment is already hidden."))
    comment.hidden_at = utcnow()
    session.add(comment)
    assert comment.id is not None
    resolved = _resolve_reports(session, target_type=TargetType.comment, target_id=comment.id, actor=actor,
                                resolution="hidden")
    return record(session, actor=actor, action=AuditAction.hide, target_type=TargetType.comment,
                  target_id=comment.id, reason=reason, from_status="visible", to_status=HISTORY_HIDDEN,
                  details={"idea_id": comment.idea_id, "reports_resolved": resolved})


def restore_comment(session: Session, *, actor: User, comment: Comment, reason: str = "") -> AuditEntry:
    reason = clean_text(reason, field="reason", required=False)
    session.refresh(comment, with_for_update=True)
    if comment.hidden_at is None:
        raise InvalidTransition(N_("This comment is not hidden."))
    comment.hidden_at = None
    comment.report_count = 0
    session.add(comment)
    assert comment.id is not None
    resolved = _resolve_reports(session, target_type=TargetType.comment, target_id=comment.id, actor=actor,
                                resolution="restored")
    return record(session, actor=actor, action=AuditAction.restore, target_type=TargetType.comment,
                  target_id=comment.id, reason=reason, from_status=HISTORY_HIDDEN, to_status="visible",
                  details={"idea_id": comment.idea_id, "reports_resolved": resolved})


# --- Official answers ---------------------------------------------------------------------

def answer_idea(session: Session, *, actor: User, idea: Idea, answer_status: str, answer_md: str,
                settings: Settings, lang: str = "fr") -> Decision:
    errors: dict[str, str] = {}
    if answer_status not in set(AnswerStatus):
        errors["answer_status"] = N_("Please choose the status of the answer.")
    text = (answer_md or "").strip()
    if len(text) < 2:
        errors["answer_md"] = N_("Please write the answer that will be published.")
    elif len(text) > MAX_ANSWER:
        errors["answer_md"] = N_("This text is too long.")
    if errors:
        raise ValidationFailed(errors)
    _lock(session, idea)
    if idea.status != IdeaStatus.published:
        raise InvalidTransition(N_("Only published ideas receive an official answer."))
    before = idea.answer_status
    idea.answer_status = answer_status
    idea.answer_html = render_markdown(text)
    idea.answered_at = utcnow()
    idea.answered_by_id = actor.id
    idea.updated_at = idea.answered_at
    session.add(idea)
    # The public history says which answer, in the moderator's language like every other note.
    label = translate(lang, ANSWER_LABELS[AnswerStatus(answer_status)])
    add_history(session, idea, actor, before, HISTORY_ANSWERED, label)
    assert idea.id is not None
    entry = record(session, actor=actor, action=AuditAction.answer, target_type=TargetType.idea,
                   target_id=idea.id, reason=text, from_status=before, to_status=answer_status)
    notices.idea_decision(session, settings, idea=idea, actor=actor, event="answer", note=text,
                          notify_followers=True)
    return Decision(idea, entry)


# --- Review and selection -----------------------------------------------------------------

def set_selection(session: Session, *, actor: User, idea: Idea, call: Call, shortlisted: bool, winner: bool,
                  jury_note: str) -> AuditEntry:
    jury_note = clean_text(jury_note, field="jury_note", required=False, limit=MAX_REASON)
    if current_phase(call) != Phase.review:
        raise InvalidTransition(N_("Ideas are selected during the review phase only."))
    _lock(session, idea)
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


def publish_results(session: Session, *, actor: User, call: Call, settings: Settings) -> AuditEntry:
    session.refresh(call, with_for_update=True)
    phase = current_phase(call)
    if phase != Phase.review:
        raise InvalidTransition(N_("Results are published at the end of the review phase."))
    winners = list(session.exec(
        select(Idea).where(Idea.call_id == call.id, col(Idea.winner).is_(True), Idea.status == IdeaStatus.published,
                           col(Idea.hidden_at).is_(None))
        .order_by(col(Idea.vote_count).desc(), col(Idea.id))
    ).all())
    if not winners:
        raise InvalidTransition(N_("Mark at least one winning idea before publishing the results."))
    shortlisted = list(session.exec(
        select(Idea).where(Idea.call_id == call.id, col(Idea.shortlisted).is_(True),
                           Idea.status == IdeaStatus.published, col(Idea.hidden_at).is_(None))
    ).all())
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


# --- Figures for the queue ----------------------------------------------------------------

def open_report_count(session: Session, target_type: str, target_id: int) -> int:
    return int(session.exec(
        select(func.count()).select_from(Report).where(
            Report.target_type == target_type, Report.target_id == target_id, col(Report.resolved_at).is_(None))
    ).one())
