"""Moderator decisions on ideas: approve, ask for changes, reject, hide, restore, merge a
duplicate, and the city's official answer.

Each decision locks the idea's row, checks the move against MODERATOR_TRANSITIONS (and the
status the moderator saw), writes one public history line and one audit entry, and tells the
people concerned (app.moderation.notices). The author's own transitions (draft -> submitted or
published, resubmission, withdrawal) live in app.idea.service.

A decision that brings an idea's supports back into a count (approve, restore) or moves them
(merge) keeps every supporter within the call's limit (app.vote.limits): it locks the supporters
and the call's rules before the idea, and sets aside, with a notice, the supports that no longer
fit.
"""

from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app import contentlang
from app.account.models import User
from app.audit import AuditAction, AuditEntry, TargetType, record
from app.budget import ballot as budget_ballot
from app.call.models import Call
from app.clock import utcnow
from app.errors import Conflict, InvalidTransition, ValidationFailed
from app.follow.models import Follow
from app.i18n import N_, translate
from app.idea.models import ANSWER_LABELS, AnswerStatus, Idea, IdeaStatus
from app.locks import share_call
from app.moderation import notices
from app.moderation.common import (
    HIDEABLE,
    HISTORY_ANSWERED,
    HISTORY_HIDDEN,
    HISTORY_RESTORED,
    add_history,
    clean_text,
    lock_idea,
)
from app.moderation.report_decisions import resolve_reports
from app.notify import service as notify_service
from app.richtext import render_markdown
from app.search.queue import reindex_later
from app.settings import LANGUAGES, Settings
from app.vote import limits as vote_limits
from app.vote.models import Vote

# The moderator's transitions of an idea's status: action -> (allowed from, to).
MODERATOR_TRANSITIONS: dict[str, tuple[frozenset[str], IdeaStatus]] = {
    AuditAction.approve: (frozenset({IdeaStatus.submitted}), IdeaStatus.published),
    AuditAction.request_changes: (frozenset({IdeaStatus.submitted, IdeaStatus.published}),
                                  IdeaStatus.changes_requested),
    AuditAction.reject: (frozenset({IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published}),
                         IdeaStatus.rejected),
    AuditAction.merge: (frozenset({IdeaStatus.submitted, IdeaStatus.published}), IdeaStatus.merged),
}


# Common rejection reasons, offered as a choice; the moderator may add to them or write their own.
REJECTION_REASONS = {
    "duplicate": N_("A very similar idea has already been proposed."),
    "off_topic": N_("This idea does not match the theme of the call."),
    "not_municipal": N_("This idea is outside the city's competences."),
    "charter": N_("This idea does not respect the participation charter."),
    "unclear": N_("This idea is not described clearly enough to be studied."),
    "personal_data": N_("This idea contains personal data about other people."),
}

MAX_ANSWER = 10000


@dataclass
class Decision:
    """What a decision did, for the route's flash message and redirect."""

    idea: Idea
    audit: AuditEntry


def _transition(idea: Idea, action: str, expected: str | None = None) -> tuple[str, IdeaStatus]:
    """Check the move against the table. `expected` is the status the moderator saw: if someone
    else decided in the meantime, the decision is refused rather than applied to a new state."""
    allowed, target = MODERATOR_TRANSITIONS[action]
    if expected and idea.status != expected:
        raise Conflict(N_("Someone else decided on this idea in the meantime. Please look at it again."))
    if idea.status not in allowed:
        raise InvalidTransition(N_("This decision is not possible for an idea in this state."))
    return idea.status, target


def _set_status(session: Session, idea: Idea, status: IdeaStatus) -> None:
    now = utcnow()
    reindex_later(session, idea.id)
    idea.status = status
    idea.updated_at = now
    if status == IdeaStatus.published and idea.published_at is None:
        idea.published_at = now


def lock_supporters(session: Session, ideas: list[Idea]) -> None:
    """Before locking `ideas`: lock their supporters and the people whose participatory budget
    ballot holds them, then their calls' rules (app.locks order), for a decision that may bring
    their supports (or ballots' projects: app.budget.ballot) back into a count. A route deciding on several
    ideas in one transaction calls it once for all of them first."""
    ids = [i.id for i in ideas if i.id is not None]
    vote_limits.lock_supporters(session, ids, also=budget_ballot.holders(session, ids))
    for call_id in sorted({i.call_id for i in ideas}):
        share_call(session, call_id)


def _keep_within_limits(session: Session, settings: Settings, *, idea: Idea, entry: AuditEntry, why: str,
                        only_users: list[int] | None = None) -> None:
    call = session.get(Call, idea.call_id)
    assert call is not None and idea.id is not None
    vote_limits.keep_within_limits(session, settings, call=call, idea_ids=[idea.id], why=why,
                                   only_users=only_users, decision=entry)
    budget_ballot.recheck(session, settings, call=call, idea_ids=[idea.id])


def _decide(session: Session, *, actor: User, idea: Idea, action: str, settings: Settings,
            expected: str | None, reason: str = "") -> Decision:
    """A moderator's status decision on an idea: the row locked, the transition checked
    against the table, one public history line, one audit entry, the people told. Publishing
    an idea brings its supports (if it had some before it was sent back) into the count again."""
    publishes = MODERATOR_TRANSITIONS[action][1] == IdeaStatus.published
    if publishes:
        lock_supporters(session, [idea])
    lock_idea(session, idea)
    before, after = _transition(idea, action, expected)
    _set_status(session, idea, after)
    session.add(idea)
    add_history(session, idea, actor, before, after, reason)
    assert idea.id is not None
    entry = record(session, actor=actor, action=action, target_type=TargetType.idea, target_id=idea.id,
                   reason=reason, from_status=before, to_status=after)
    notices.idea_decision(session, settings, idea=idea, actor=actor, event=action, note=reason)
    if publishes:
        _keep_within_limits(session, settings, idea=idea, entry=entry, why=vote_limits.CAME_BACK)
    notify_service.tell_edits(session, settings, idea=idea)  # an edit held back, now public
    return Decision(idea, entry)


def approve_idea(session: Session, *, actor: User, idea: Idea, settings: Settings,
                 expected: str | None = None) -> Decision:
    """Publish a submitted idea; its author is told.

    `expected` is the status the moderator saw. Raises Conflict (someone else decided in the
    meantime) or InvalidTransition (the idea is not waiting for moderation)."""
    return _decide(session, actor=actor, idea=idea, action=AuditAction.approve, settings=settings,
                   expected=expected)


def request_changes(session: Session, *, actor: User, idea: Idea, message: str, settings: Settings,
                    expected: str | None = None) -> Decision:
    """Send a submitted or published idea back to its author with `message` (what to change).

    Raises ValidationFailed ("message" missing or too long), Conflict or InvalidTransition."""
    message = clean_text(message, field="message", required=True,
                         message=N_("Please tell the author what to change."))
    return _decide(session, actor=actor, idea=idea, action=AuditAction.request_changes, settings=settings,
                   expected=expected, reason=message)


def rejection_reason(template: str, text: str, lang: str) -> str:
    """The full reason: the chosen common reason (a key of REJECTION_REASONS, or "" for none)
    in the moderator's language `lang`, then their own words, separated by a blank line.

    Raises ValidationFailed ("reason_template") for a key that is not in the list."""
    if template and template not in REJECTION_REASONS:
        raise ValidationFailed({"reason_template": N_("Please choose a reason from the list.")})
    parts = [translate(lang, REJECTION_REASONS[template])] if template else []
    text = (text or "").strip()
    if text:
        parts.append(text)
    return "\n\n".join(parts)


def reject_idea(session: Session, *, actor: User, idea: Idea, reason: str, settings: Settings,
                expected: str | None = None) -> Decision:
    """Reject an idea (submitted, waiting for changes, or published) with `reason`, public in
    its history; its author is told.

    Raises ValidationFailed ("reason" missing or too long), Conflict or InvalidTransition."""
    reason = clean_text(reason, field="reason", required=True,
                        message=N_("Please choose or write the reason for the rejection."))
    return _decide(session, actor=actor, idea=idea, action=AuditAction.reject, settings=settings,
                   expected=expected, reason=reason)


def hide_idea(session: Session, *, actor: User, idea: Idea, reason: str, settings: Settings) -> Decision:
    """Hide an idea from everyone but its author and moderators, closing its open reports; the
    status stays. Raises ValidationFailed ("reason" missing or too long) or InvalidTransition
    (already hidden, or a draft or withdrawn idea)."""
    reason = clean_text(reason, field="reason", required=True)
    lock_idea(session, idea)
    if idea.hidden_at is not None or idea.status not in HIDEABLE:
        raise InvalidTransition(N_("This idea is already hidden."))
    idea.hidden_at = utcnow()
    idea.updated_at = idea.hidden_at
    session.add(idea)
    reindex_later(session, idea.id)
    assert idea.id is not None
    resolved = resolve_reports(session, target_type=TargetType.idea, target_id=idea.id, actor=actor,
                               resolution="hidden")
    add_history(session, idea, actor, idea.status, HISTORY_HIDDEN, reason)
    entry = record(session, actor=actor, action=AuditAction.hide, target_type=TargetType.idea, target_id=idea.id,
                   reason=reason, from_status=idea.status, to_status=HISTORY_HIDDEN,
                   details={"reports_resolved": resolved})
    notices.idea_decision(session, settings, idea=idea, actor=actor, event="hide", note=reason)
    return Decision(idea, entry)


def restore_idea(session: Session, *, actor: User, idea: Idea, reason: str = "", settings: Settings) -> Decision:
    """Show a hidden idea again: its report counter is reset and its open reports closed, so
    only new reports can hide it again. Its supports count again: a supporter who used the
    place meanwhile keeps what they hold now, and their support for this idea is set aside,
    with a notice (app.vote.limits). Raises ValidationFailed ("reason" too long) or
    InvalidTransition (not hidden)."""
    reason = clean_text(reason, field="reason", required=False)
    lock_supporters(session, [idea])
    lock_idea(session, idea)
    if idea.hidden_at is None:
        raise InvalidTransition(N_("This idea is not hidden."))
    idea.hidden_at = None
    idea.updated_at = utcnow()
    idea.report_count = 0
    session.add(idea)
    reindex_later(session, idea.id)
    assert idea.id is not None
    resolved = resolve_reports(session, target_type=TargetType.idea, target_id=idea.id, actor=actor,
                               resolution="restored")
    add_history(session, idea, actor, HISTORY_HIDDEN, HISTORY_RESTORED, reason)
    entry = record(session, actor=actor, action=AuditAction.restore, target_type=TargetType.idea,
                   target_id=idea.id, reason=reason, from_status=HISTORY_HIDDEN, to_status=idea.status,
                   details={"reports_resolved": resolved})
    notices.idea_decision(session, settings, idea=idea, actor=actor, event="restore", note=reason)
    _keep_within_limits(session, settings, idea=idea, entry=entry, why=vote_limits.CAME_BACK)
    notify_service.tell_edits(session, settings, idea=idea)  # edits made while it was hidden
    return Decision(idea, entry)


def merge_ideas(session: Session, *, actor: User, source: Idea, target: Idea, note: str,
                settings: Settings, expected: str | None = None) -> Decision:
    """Fold the duplicate `source` into `target`: votes and followers move (a citizen who
    supported both keeps one vote), counters are recounted from the rows, both authors are
    told, and `source` points at `target` so its page redirects there. Returns the decision on
    `source` (votes moved and merged in the audit details). A moved support that does not fit
    its supporter's limit (the source was hidden or waiting, or in another theme) is set aside,
    with a notice (app.vote.limits).

    Raises ValidationFailed ("note" too long; "target_id": the same idea, another call, or a
    target that is not published and visible), Conflict or InvalidTransition (on `source`)."""
    note = clean_text(note, field="note", required=False)
    if source.id == target.id:
        raise ValidationFailed({"target_id": N_("An idea cannot be merged into itself.")})
    if source.call_id != target.call_id:
        raise ValidationFailed({"target_id": N_("Both ideas must belong to the same call.")})
    # The supporters first (app.locks), then both rows in a fixed order so that two merges
    # cannot deadlock.
    lock_supporters(session, [source])
    for idea in sorted((source, target), key=lambda i: i.id or 0):
        lock_idea(session, idea)
    if target.status != IdeaStatus.published or target.hidden_at is not None:
        raise ValidationFailed({"target_id": N_("The idea to merge into must be published and visible.")})
    before, after = _transition(source, AuditAction.merge, expected)
    assert source.id is not None and target.id is not None
    # Votes: move those of people who did not support the target yet, drop the duplicates.
    target_voters = select(Vote.user_id).where(Vote.idea_id == target.id)
    movers = list(session.exec(select(Vote.user_id).where(Vote.idea_id == source.id,
                                                          col(Vote.user_id).not_in(target_voters))).all())
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
    _set_status(session, source, after)
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
    _keep_within_limits(session, settings, idea=target, entry=entry, why=vote_limits.MERGED, only_users=movers)
    return Decision(source, entry)


def answer_idea(session: Session, *, actor: User, idea: Idea, answer_status: str, answer_md: str,
                settings: Settings, lang: str = "fr") -> Decision:
    """Publish (or replace) the city's official answer to a published idea: `answer_status` (an
    AnswerStatus) and `answer_md` (Markdown, sanitised and stored as HTML). The public history
    names the answer in the moderator's language `lang`, taken as the answer's original language
(app.contentlang: its translations, older now, are flagged out of date); the author and followers are told.

    Raises ValidationFailed ("answer_status", "answer_md": missing or too long) or
    InvalidTransition (the idea is not published)."""
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
    lock_idea(session, idea)
    if idea.status != IdeaStatus.published:
        raise InvalidTransition(N_("Only published ideas receive an official answer."))
    before = idea.answer_status
    idea.answer_status = answer_status
    idea.answer_html = render_markdown(text)
    # The language the answer is written in, recognised from its text (a moderator may answer in
    # French while reading the site in English); the moderator's own language when it cannot tell.
    idea.answer_language = contentlang.detect_language(text) or (lang if lang in LANGUAGES else "fr")
    reindex_later(session, idea.id)  # the answer's words find the idea; its status is a search filter
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


def translate_answer(session: Session, *, actor: User, idea: Idea, language: str, answer_md: str) -> bool:
    """Save (or, with an empty text, remove) the translation of `idea`'s official answer into
    `language` (Markdown, rendered at write time; app.contentlang, kind "answer"). Returns whether
    anything changed; records it in the audit log. Raises ValidationFailed ("language": unknown or
    the answer's own; "answer_md": too long) or InvalidTransition (no answer yet). Does not commit."""
    if not idea.answer_status:
        raise InvalidTransition(N_("This idea has no official answer yet."))
    changed = contentlang.set_translations(idea, "answer", language, {"answer_md": answer_md})
    if changed:
        session.add(idea)
        assert idea.id is not None
        record(session, actor=actor, action=AuditAction.translation_save, target_type=TargetType.idea,
               target_id=idea.id, details={"language": language, "fields": changed})
        reindex_later(session, idea.id)  # a reader of that language finds the idea by the answer's words
    return bool(changed)
