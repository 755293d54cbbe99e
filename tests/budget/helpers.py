"""Participatory budget test data: a budget call and reviewed projects."""

from sqlmodel import Session

from app.account.models import User
from app.budget.models import Ballot, BallotItem, BudgetScope, BudgetShare, CallBudget, IdeaReview
from app.call.models import Call, Category, District, VotingMode
from app.clock import utcnow
from app.idea.models import Idea
from tests.factories import make_call, make_idea, make_user


def make_budget_call(session: Session, *, total: int = 100, phase: str = "voting", min_projects: int = 0,
                     min_percent: int = 0, districts: list[tuple[District, int]] | None = None) -> Call:
    """A call in the budget voting mode: one budget of `total` euros, or one per district."""
    call = make_call(session, phase=phase, voting_mode=VotingMode.budget)
    assert call.id is not None
    scope = BudgetScope.district if districts else BudgetScope.call
    session.add(CallBudget(call_id=call.id, scope=scope, total_eur=sum(a for _d, a in districts or []) or total,
                           min_projects=min_projects, min_percent=min_percent))
    for district, amount in districts or []:
        session.add(BudgetShare(call_id=call.id, district_id=district.id, amount_eur=amount))
    session.flush()
    return call


def make_project(session: Session, call: Call, cost: int | None, *, feasible: bool = True,
                 district: District | None = None, category: Category | None = None, title: str | None = None,
                 author: User | None = None) -> Idea:
    """A published idea with its technical review (feasible, costing `cost` euros)."""
    idea = make_idea(session, call, author, district=district, category=category, title=title)
    assert idea.id is not None
    session.add(IdeaReview(idea_id=idea.id, feasible=feasible, cost_eur=cost if feasible else None,
                           cost_explanation="Devis des services" if feasible else "",
                           reason="" if feasible else "Hors compétence communale"))
    session.flush()
    return idea


def cast_ballot(session: Session, call: Call, ideas: list[Idea], *, confirmed: bool = True) -> User:
    """A new citizen's ballot with `ideas`, confirmed or not (written directly, for results)."""
    voter = make_user(session)
    assert call.id is not None and voter.id is not None
    ballot = Ballot(call_id=call.id, user_id=voter.id, confirmed_at=utcnow() if confirmed else None)
    session.add(ballot)
    session.flush()
    for idea in ideas:
        assert idea.id is not None and ballot.id is not None
        session.add(BallotItem(ballot_id=ballot.id, idea_id=idea.id))
    session.flush()
    return voter


def editor_form(call: Call, **budget: str) -> dict[str, str]:
    """The call editor's form as an administrator sends it for `call` unchanged, with the
    participatory budget's fields `budget` (voting_mode, scope, total, district_<id>...)."""
    from app.call.admin import to_local  # the editor's own way of writing dates

    form = {name: str(getattr(call, name)) for name in (
        "slug", "title", "summary", "description_md", "ideas_per_citizen", "votes_per_citizen", "vote_scope",
        "report_threshold", "submit_access", "vote_access", "original_language")}
    for name in ("submissions_start", "technical_review_start", "voting_start", "review_start", "results_start",
                 "closes_at"):
        form[name] = to_local(getattr(call, name))
    form["phase_override"] = call.phase_override or ""
    for flag in ("premoderation", "voting_during_submissions", "comments_during_submissions",
                 "comments_during_voting"):
        if getattr(call, flag):
            form[flag] = "1"
    return {**form, **budget}
