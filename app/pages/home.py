"""What the home page shows: the platform's key figures, open calls with their phase and time
left, the city's latest official answers, recent results, and for a signed-in person their
supports left, their ideas and the latest activity on what they follow.

Every part is a bounded query (a few rows, or one aggregate), never one query per item: the
home page is the most visited page."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import authz
from app.account.models import User
from app.authz import Action
from app.call import queries as call_queries
from app.call.models import Call, Category, VoteScope
from app.call.phases import accepts_votes, current_phase
from app.call.rules import time_left
from app.idea.models import ANSWER_LABELS, Idea
from app.idea.queries import STATUS_LABELS, public_condition
from app.notify import service as notify_service
from app.notify import views as notify_views
from app.pagecache import memo
from app.pages.models import KeyFiguresTally
from app.vote import allowance as vote_allowance

RECENT_ANSWERS = 4
MY_IDEAS = 5
MY_ACTIVITY = 5


@dataclass
class KeyFigures:
    """The platform's figures: public ideas, people who proposed or supported one, supports on
    public ideas, the share of public ideas with an official answer (percent) and the median
    days from publication to that answer (None before any answer)."""

    ideas: int
    participants: int
    supports: int
    answered_share: int
    median_days: float | None


@dataclass
class ThemeLeft:
    name: str
    left: int


@dataclass
class SupportsLeft:
    """A signed-in person's free supports in one call open to votes: `left` for a per-call
    limit, or one `ThemeLeft` per theme for a per-theme limit."""

    call: Call
    limit: int
    per_theme: bool
    left: int = 0
    themes: list[ThemeLeft] = field(default_factory=list)


def key_figures(session: Session, *, answered_share: int, median_days: float | None) -> KeyFigures:
    """The key figures, the answer figures taken from the dialogue figures (app.moderation.dialogue)
    so that the home page and the call pages say the same.

    Read, not counted: one sum over the rows of `key_figures_tally` (at most 256, whatever the
    number of ideas and supports), which triggers of migration 0042 keep equal to the count of
    public ideas (app.idea.queries.public_condition), the sum of their `vote_count`, and the
    distinct people among public ideas' authors and every support's giver. Counting them scanned
    every public idea and the whole `vote` table (issue 14: 16.2 s at 1,000,000 ideas and
    10,000,000 supports); tests/pages/key_figures_oracle.py keeps that count as the tests' oracle."""
    tally: sa.Table = KeyFiguresTally.__table__  # type: ignore[attr-defined]
    ideas, supports, participants = session.execute(
        sa.select(*(func.coalesce(func.sum(tally.c[name]), 0) for name in ("ideas", "supports", "participants")))
    ).one()
    return KeyFigures(ideas=int(ideas), participants=int(participants), supports=int(supports),
                      answered_share=answered_share, median_days=median_days)


def recent_answers(session: Session, viewer: User | None, limit: int = RECENT_ANSWERS) -> list[tuple[Idea, Call]]:
    """The latest official answers on public ideas, newest first, with their call."""
    rows = session.exec(
        select(Idea, Call).join(Call, col(Call.id) == Idea.call_id)
        .where(public_condition(), col(Idea.answered_at).is_not(None), col(Idea.answer_status).is_not(None))
        .order_by(col(Idea.answered_at).desc(), col(Idea.id).desc()).limit(limit)
    ).all()
    return [(idea, call) for idea, call in rows if authz.can(viewer, Action.call_view, call)]


def supports_left(session: Session, user: User, calls: list[Call]) -> list[SupportsLeft]:
    """For each of `calls` open to votes, what `user` has left to give: two queries in all."""
    voting = [c for c in calls if c.id is not None and accepts_votes(c)]
    if not voting or user.id is None:
        return []
    held = vote_allowance.allowance(session, user_id=user.id, call_ids=[c.id for c in voting if c.id])
    themed = [c.id for c in voting if c.vote_scope == VoteScope.category]
    themes: dict[int, list[Category]] = {}
    if themed:
        for category in session.exec(select(Category).where(col(Category.call_id).in_(themed))
                                     .order_by(col(Category.position), col(Category.name))):
            themes.setdefault(category.call_id, []).append(category)
    result = []
    for call in voting:
        if call.vote_scope == VoteScope.category:
            result.append(SupportsLeft(call, call.votes_per_citizen, True, themes=[
                ThemeLeft(c.name, held.left(call, c.id)) for c in themes.get(call.id or 0, [])]))
        else:
            result.append(SupportsLeft(call, call.votes_per_citizen, False, left=held.left(call, None)))
    return result


def my_ideas(session: Session, user: User, limit: int = MY_IDEAS) -> list[tuple[Idea, Call]]:
    """The person's latest ideas, whatever their status, with their call."""
    rows = session.exec(select(Idea, Call).join(Call, col(Call.id) == Idea.call_id)
                        .where(Idea.author_id == user.id)
                        .order_by(col(Idea.created_at).desc(), col(Idea.id).desc()).limit(limit)).all()
    return [(idea, call) for idea, call in rows]


def home_context(session: Session, viewer: User | None, *, answered_share: int,
                 median_days: float | None) -> dict[str, object]:
    """Everything the home page template needs (see the module docstring)."""
    lists = call_queries.home_lists(session, viewer)
    open_calls = lists["open_calls"]
    context: dict[str, object] = {
        **lists,
        "phase_of": current_phase,
        "phase_labels": call_queries.PHASE_LABELS,
        "time_left": {call.id: time_left(call) for call in open_calls},
        "figures": memo.remembered(session, "key_figures", (answered_share, median_days), lambda: key_figures(
            session, answered_share=answered_share, median_days=median_days)),
        "recent_answers": recent_answers(session, viewer),
        "answer_labels": ANSWER_LABELS,
    }
    if viewer is not None and viewer.id is not None:
        context.update({
            "my_supports": supports_left(session, viewer, open_calls),
            "my_ideas": my_ideas(session, viewer),
            "status_labels": STATUS_LABELS,
            "my_activity": notify_views.views(session, viewer, notify_service.recent(session, viewer.id, MY_ACTIVITY)),
            "is_status_label": notify_service.is_status_label,
        })
    return context
