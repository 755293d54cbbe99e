"""What a person has left to give: their supports still free under each limit of a call, for
many calls and themes at once (the call page's cards, the home page), in one query.

The same counting as the vote service (`service.counted`, `service.bucket_conditions`): a
support counts while its idea is published and visible, in the theme the idea is in now."""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from app.call.models import Call, VoteScope
from app.idea.models import Idea
from app.vote.models import Vote
from app.vote.service import counted


@dataclass
class Allowance:
    """One person's supports in a set of calls: `held[(call_id, category_id)]` counted supports
    per call and theme (theme None: ideas without one)."""

    held: dict[tuple[int, int | None], int] = field(default_factory=dict)

    def used(self, call: Call, category_id: int | None) -> int:
        """Supports held under the limit that applies to an idea of `call` in `category_id`."""
        if call.vote_scope == VoteScope.category:
            return self.held.get((call.id or 0, category_id), 0)
        return sum(n for (call_id, _), n in self.held.items() if call_id == call.id)

    def left(self, call: Call, category_id: int | None) -> int:
        """Supports still free under that limit (never below 0 on screen)."""
        return max(call.votes_per_citizen - self.used(call, category_id), 0)


# Built once: every logged-in call page and the home page run it (building it cost about as much
# as running it on SQLite: cProfile of a logged-in call list, issue 14).
_HELD = (select(Vote.call_id, Idea.category_id, func.count()).join(Idea, col(Idea.id) == Vote.idea_id)
         .where(col(Vote.user_id) == bindparam("user_id"), col(Vote.call_id).in_(bindparam("call_ids", expanding=True)),
                *counted())
         .group_by(col(Vote.call_id), col(Idea.category_id)))


def allowance(session: Session, *, user_id: int | None, call_ids: list[int]) -> Allowance:
    """The counted supports of person `user_id` in `call_ids`, per call and theme: one grouped
    query whatever the number of calls, themes and cards. A visitor (None) holds none."""
    if user_id is None or not call_ids:
        return Allowance()
    rows = session.exec(_HELD, params={"user_id": user_id, "call_ids": list(call_ids)}).all()
    return Allowance({(int(call_id), category_id): int(n) for call_id, category_id, n in rows})
