"""A person's own supports, call by call: what "My supports" shows (issue 15).

For each call where the person supports ideas, the supports that count (their idea is
published and visible, app.vote.service.counted) grouped under the limit that applies — the
whole call, or each theme when the call counts supports per theme — with how many are used and
left while voting is open. A support whose idea left the running (hidden, sent back, withdrawn,
rejected) is listed apart and without its title when the idea is no longer public: the person
may not see it, and it no longer holds one of their places."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Call, Category, Phase, VoteScope
from app.call.phases import current_phase
from app.idea.models import Idea, IdeaStatus
from app.vote.models import Vote


@dataclass(frozen=True)
class Supported:
    """One support: the idea (None when it is no longer public), when it was given."""

    idea: Idea | None
    given_at: datetime


@dataclass
class Bucket:
    """The supports sharing one limit: a theme (`theme` None: the whole call, or the ideas
    without a theme when the call counts per theme)."""

    theme: str | None
    used: int = 0
    supports: list[Supported] = field(default_factory=list)


@dataclass
class CallSupports:
    """A call's supports of one person: `left` per bucket only while voting is open."""

    call: Call
    phase: Phase
    limit: int
    per_theme: bool
    buckets: list[Bucket]
    not_counted: list[Supported]

    @property
    def voting_open(self) -> bool:
        return self.phase == Phase.voting


def supports_of(session: Session, user: User) -> list[CallSupports]:
    """The calls where `user` supports ideas, the latest call first, each with its buckets in
    theme order and the supports newest first. One query; no call in draft is listed."""
    rows = session.exec(
        select(Vote, Idea, Call, Category.name)
        .join(Idea, col(Idea.id) == Vote.idea_id)
        .join(Call, col(Call.id) == Vote.call_id)
        .outerjoin(Category, col(Category.id) == Idea.category_id)
        .where(col(Vote.user_id) == user.id)
        .order_by(col(Call.id).desc(), col(Vote.created_at).desc(), col(Vote.id).desc())
    ).all()
    calls: dict[int, CallSupports] = {}
    buckets: dict[int, dict[str | None, Bucket]] = defaultdict(dict)
    for vote, idea, call, theme in rows:
        phase = current_phase(call)
        if phase == Phase.draft or call.id is None:
            continue
        entry = calls.get(call.id)
        if entry is None:
            entry = calls[call.id] = CallSupports(call=call, phase=phase, limit=call.votes_per_citizen,
                                                  per_theme=call.vote_scope == VoteScope.category,
                                                  buckets=[], not_counted=[])
        public = idea.status == IdeaStatus.published and idea.hidden_at is None
        if not public:
            entry.not_counted.append(Supported(idea=None, given_at=vote.created_at))
            continue
        key = theme if entry.per_theme else None
        bucket = buckets[call.id].get(key)
        if bucket is None:
            bucket = buckets[call.id][key] = Bucket(theme=key)
            entry.buckets.append(bucket)
        bucket.used += 1
        bucket.supports.append(Supported(idea=idea, given_at=vote.created_at))
    for entry in calls.values():
        entry.buckets.sort(key=lambda b: (b.theme is None, b.theme or ""))
    return list(calls.values())
