"""The technical review: a call's moderators say of each idea whether it is feasible (with a
public reason when it is not) and what it would cost (with a public explanation). Only
feasible, costed ideas go to the ballot. Each decision is written in the idea's public history,
told to its author and audited.

Reviews are made before voting opens (draft and submissions phases): ballots are filled
against the costs, so a cost never changes under a ballot."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from app import audit, links
from app.account.models import User
from app.budget.models import BallotItem, IdeaReview
from app.budget.money import parse_euros
from app.budget.rules import OPEN_PHASES
from app.call.models import Call
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus, IdeaStatusChange
from app.notify import service as notify_service
from app.notify.models import NotificationKind
from app.settings import Settings

# Pseudo-statuses of the idea's public history (labelled in app.idea.history).
HISTORY_FEASIBLE = "feasible"
HISTORY_NOT_FEASIBLE = "not_feasible"

REVIEW_CLOSED = N_("The technical review is closed: voting has started.")
NOT_REVIEWABLE = N_("Only published ideas are reviewed.")
CHOOSE_FEASIBLE = N_("Say whether the idea is feasible.")
GIVE_REASON = N_("Give the public reason why the idea is not feasible.")
GIVE_COST = N_("Enter the estimated cost: a whole number of euros greater than zero.")
GIVE_EXPLANATION = N_("Explain the estimated cost in a few words, for the public.")
TOO_LONG = N_("This text is too long.")
IN_BALLOTS = N_("Citizens have already put this project in their ballots at this cost: its cost and feasibility "
                "can no longer change.")
REVIEWED = N_("The technical review of your idea is done.")
MAX_TEXT = 2000

PER_PAGE = 50


def ballot_candidates() -> list[ColumnElement[bool]]:
    """The conditions (on a query of Idea joined to IdeaReview) of an idea that goes to the
    ballot: published, not hidden, reviewed feasible, with a cost."""
    return [col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None),
            col(IdeaReview.feasible).is_(True), col(IdeaReview.cost_eur).is_not(None), col(IdeaReview.cost_eur) > 0]


def _text(value: str, field: str, message: str, errors: dict[str, str]) -> str:
    value = (value or "").strip()
    if len(value) < 2:
        errors[field] = message
    elif len(value) > MAX_TEXT:
        errors[field] = TOO_LONG
    return value


def review_idea(session: Session, settings: Settings, *, actor: User, idea: Idea, call: Call, feasible: str,
                reason: str, cost: str, explanation: str) -> IdeaReview:
    """Record the technical review of `idea` (of `call`) by `actor`: `feasible` "yes" with
    `cost` (whole euros, typed: "12 500") and its public `explanation`, or "no" with the public
    `reason`. Writes a public history line, notifies the author, audits (`budget_review`,
    before and after). Reviewing again replaces the review (and says so in the history); its
    cost and feasibility no longer change once ballots hold the project (possible only when an
    administrator moved the phase back after voting opened).

    Raises ValidationFailed ("feasible", "reason", "cost", "explanation"; "cost" when ballots
    hold the project) or InvalidTransition
    (voting has started; the idea is not published and visible)."""
    assert idea.id is not None and call.id is not None
    if current_phase(call) not in OPEN_PHASES:
        raise InvalidTransition(REVIEW_CLOSED)
    session.refresh(idea, with_for_update=True)
    if idea.status != IdeaStatus.published or idea.hidden_at is not None or idea.call_id != call.id:
        raise InvalidTransition(NOT_REVIEWABLE)
    errors: dict[str, str] = {}
    cost_eur: int | None = None
    if feasible == "yes":
        cost_eur = parse_euros(cost)
        if cost_eur is None or cost_eur <= 0:
            errors["cost"] = GIVE_COST
        explanation = _text(explanation, "explanation", GIVE_EXPLANATION, errors)
        reason = ""
    elif feasible == "no":
        reason = _text(reason, "reason", GIVE_REASON, errors)
        explanation = ""
    else:
        errors["feasible"] = CHOOSE_FEASIBLE
    if errors:
        raise ValidationFailed(errors)
    review = session.get(IdeaReview, idea.id)
    before = _facts(review)
    changes = review is None or (review.feasible, review.cost_eur) != (feasible == "yes", cost_eur)
    if changes and session.exec(select(BallotItem.id).where(BallotItem.idea_id == idea.id)).first() is not None:
        # Only when the phase was moved back by hand after voting opened: the ballots stand.
        raise ValidationFailed({"cost": IN_BALLOTS})
    if review is None:
        review = IdeaReview(idea_id=idea.id)
    review.feasible, review.reason, review.cost_eur = feasible == "yes", reason, cost_eur
    review.cost_explanation, review.reviewer_id, review.reviewed_at = explanation, actor.id, utcnow()
    session.add(review)
    note = f"{_grouped(cost_eur)} € — {explanation}" if cost_eur is not None else reason
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=actor.id, from_status=idea.status,
                                 to_status=HISTORY_FEASIBLE if review.feasible else HISTORY_NOT_FEASIBLE, note=note))
    author = session.get(User, idea.author_id) if idea.author_id is not None else None
    if author is not None:
        notify_service.notify(session, settings, recipient=author, kind=NotificationKind.status, actor=actor,
                              link=links.idea_path(idea.id, "history"), subject=idea.title, detail=REVIEWED,
                              note=note, idea_id=idea.id)
    audit.record(session, actor=actor, action=audit.AuditAction.budget_review, target_type=audit.TargetType.idea,
                 target_id=idea.id, reason=note, from_status=str(before["decision"]) if before else None,
                 to_status="feasible" if review.feasible else "not_feasible",
                 details={"before": before, "after": _facts(review)})
    return review


def _grouped(amount: int) -> str:
    # The history note is plain text read in every language: digits grouped by thin spaces.
    return f"{amount:,}".replace(",", "\u202f")


def _facts(review: IdeaReview | None) -> dict[str, object]:
    if review is None:
        return {}
    return {"decision": "feasible" if review.feasible else "not_feasible", "cost_eur": review.cost_eur,
            "reason": review.reason, "explanation": review.cost_explanation}


@dataclass
class QueueRow:
    idea: Idea
    review: IdeaReview | None


@dataclass
class Queue:
    rows: list[QueueRow]
    total: int  # published, visible ideas of the call
    reviewed: int
    page: int
    pages: int


def review_queue(session: Session, call: Call, *, todo: bool, page: int) -> Queue:
    """The call's published, visible ideas with their review, oldest first, `PER_PAGE` a page;
    `todo` keeps only those not reviewed yet. Counts for the whole call."""
    visible = (Idea.call_id == call.id, col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None))
    total = int(session.exec(select(func.count()).select_from(Idea).where(*visible)).one())
    reviewed = int(session.exec(select(func.count()).select_from(Idea)
                                .join(IdeaReview, col(IdeaReview.idea_id) == Idea.id).where(*visible)).one())
    query = select(Idea, IdeaReview).outerjoin(IdeaReview, col(IdeaReview.idea_id) == Idea.id).where(*visible)
    if todo:
        query = query.where(col(IdeaReview.idea_id).is_(None))
    count = (total - reviewed) if todo else total
    pages = max(1, -(-count // PER_PAGE))
    page = min(max(1, page), pages)
    rows = session.exec(query.order_by(col(Idea.id)).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return Queue([QueueRow(i, r) for i, r in rows], total, reviewed, page, pages)


def reviews_of(session: Session, idea_ids: list[int]) -> dict[int, IdeaReview]:
    """The reviews of these ideas, by idea id (one query)."""
    if not idea_ids:
        return {}
    return {r.idea_id: r for r in session.exec(select(IdeaReview).where(col(IdeaReview.idea_id).in_(idea_ids))).all()}
