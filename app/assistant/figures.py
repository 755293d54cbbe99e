"""The assistant's figures for the admin dialogue page (app.moderation.admin_routes): questions
asked, answered automatically, handed to people, the median time to a person's answer, and the
answers their askers marked unhelpful; over the questions still kept (the retention period)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.assistant.models import AssistantQuestion, Outcome


@dataclass
class AssistantFigures:
    asked: int = 0
    answered: int = 0  # answered automatically (an entry or live data)
    handed: int = 0  # sent to a person (answered by now or not)
    waiting: int = 0  # ... of which not answered yet
    median_hours: float | None = None  # from the hand-off to a person's answer
    unhelpful: int = 0  # answers marked "not helpful"

    @property
    def median_minutes(self) -> int | None:
        """The median delay in whole minutes when it is under an hour (shown so rather than
        « 0 hours »), else None."""
        if self.median_hours is None or self.median_hours >= 1:
            return None
        return max(round(self.median_hours * 60), 1)

    @property
    def answered_share(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def figures(session: Session) -> AssistantFigures:
    """The figures over every question kept: two grouped queries and one for the delays."""
    counts = {outcome: int(n) for outcome, n in session.exec(
        select(AssistantQuestion.outcome, func.count()).group_by(col(AssistantQuestion.outcome))).all()}
    result = AssistantFigures(asked=sum(counts.values()), answered=counts.get(Outcome.answered, 0),
                              handed=counts.get(Outcome.handed, 0) + counts.get(Outcome.human, 0),
                              waiting=counts.get(Outcome.handed, 0))
    result.unhelpful = int(session.exec(select(func.count()).select_from(AssistantQuestion)
                                        .where(col(AssistantQuestion.helpful).is_(False))).one())
    pairs = session.exec(select(AssistantQuestion.handed_at, AssistantQuestion.answered_at).where(
        AssistantQuestion.outcome == Outcome.human, col(AssistantQuestion.handed_at).is_not(None),
        col(AssistantQuestion.answered_at).is_not(None))).all()
    delays = [max((_aware(done) - _aware(start)).total_seconds(), 0) / 3600 for start, done in pairs if start and done]
    result.median_hours = round(median(delays), 3) if delays else None
    return result
