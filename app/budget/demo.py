"""The demonstration's participatory budget: "Budget participatif 2025 — places et parcs" (a
call past its voting, made by app.idea.demo) gets its budget, the technical review of each
idea, ballots and the funded results, which agree with the winners the ideas seeder marked.

Runs after the votes seeder: a budget call takes ballots, not supports, so the supports that
seeder gave this call are taken back (counters with them). Rows are written directly, in the
past, as the other seeders do.

The example is the greedy method's own: 300 000 €; the playground (180 000 €, 6 ballots) is
funded, the skatepark (150 000 €, 4) no longer fits and is skipped, the benches (36 000 €, 3)
below it are funded, the fountain (95 000 €, 1) no longer fits: 216 000 € used, 84 000 € left."""

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.budget.models import Ballot, BallotItem, BudgetScope, CallBudget, IdeaReview
from app.budget.review import HISTORY_FEASIBLE, HISTORY_NOT_FEASIBLE
from app.call.models import Call, VotingMode
from app.clock import utcnow
from app.demo_context import DemoContext
from app.idea.models import Idea, IdeaStatusChange
from app.vote.models import Vote

TOTAL_EUR = 300_000
# Title prefix of the idea -> (cost in euros, public explanation), or (None, reason it is not feasible).
REVIEWS = {
    "Rénover l'aire de jeux": (180_000, "Jeux, sol amortissant accessible aux fauteuils et pose, selon le devis "
                                        "du service des plantations."),
    "Des bancs": (36_000, "Douze bancs en chêne à 3 000 € pièce, pose comprise."),
    "Une fontaine": (95_000, "Raccordement au réseau d'eau et fontaine accessible, selon la CILE."),
    "Un skatepark": (150_000, "Module en béton de 400 m², études comprises."),
    "Couvrir la Meuse": (None, "Le coût et les contraintes de navigation ne permettent pas ce projet."),
}
# The ten neighbours' confirmed ballots, by idea title prefix; the demo citizen's stays unconfirmed.
CONFIRMED = ((["Rénover l'aire de jeux", "Des bancs"],) * 3 + (["Rénover l'aire de jeux"],) * 3
             + (["Un skatepark", "Une fontaine"],) + (["Un skatepark"],) * 3)
UNCONFIRMED = ["Des bancs", "Une fontaine"]


def seed_budget(session: Session, context: DemoContext) -> None:
    call: Call = context.extra["calls"]["budget"]
    assert call.id is not None
    now, day = utcnow(), timedelta(days=1)
    ideas = session.exec(select(Idea).where(Idea.call_id == call.id).order_by(col(Idea.id))).all()
    by_prefix = {prefix: idea for idea in ideas for prefix in REVIEWS if idea.title.startswith(prefix)}
    session.execute(delete(Vote).where(col(Vote.call_id) == call.id))
    session.execute(update(Idea).where(col(Idea.call_id) == call.id).values(vote_count=0))
    call.voting_mode = VotingMode.budget
    # Its technical review: a month between the end of submissions and the vote.
    call.technical_review_start = now - 360 * day
    session.add(call)
    session.add(CallBudget(call_id=call.id, scope=BudgetScope.call, total_eur=TOTAL_EUR, min_projects=1,
                           min_percent=40, updated_at=now - 340 * day))
    for prefix, (cost, text) in REVIEWS.items():
        idea = by_prefix[prefix]
        assert idea.id is not None
        feasible = cost is not None
        session.add(IdeaReview(idea_id=idea.id, feasible=feasible, cost_eur=cost,
                               cost_explanation=text if feasible else "", reason="" if feasible else text,
                               reviewer_id=context.moderator.id, reviewed_at=now - 335 * day))
        note = f"{cost:,}".replace(",", "\u202f") + f" € — {text}" if cost is not None else text
        session.add(IdeaStatusChange(idea_id=idea.id, actor_id=context.moderator.id, from_status=idea.status,
                                     to_status=HISTORY_FEASIBLE if feasible else HISTORY_NOT_FEASIBLE, note=note,
                                     created_at=now - 335 * day))
    people = context.citizens or [context.citizen]
    ballots: list[tuple[User, list[str], datetime | None]] = [(context.citizen, UNCONFIRMED, None)]
    ballots += [(person, chosen, now - (320 - i) * day) for i, (person, chosen) in enumerate(zip(
        [p for p in people if p.id != context.citizen.id], CONFIRMED, strict=False))]
    for person, chosen, confirmed_at in ballots:
        assert person.id is not None
        ballot = Ballot(call_id=call.id, user_id=person.id, confirmed_at=confirmed_at, created_at=now - 325 * day,
                        updated_at=confirmed_at or now - 325 * day)
        session.add(ballot)
        session.flush()
        assert ballot.id is not None
        for prefix in chosen:
            session.add(BallotItem(ballot_id=ballot.id, idea_id=by_prefix[prefix].id or 0, created_at=now - 325 * day))
    session.flush()
