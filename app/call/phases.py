"""Which phase a call is in. It follows the clock, so no scheduler is needed; an
administrator's override wins. Services that enforce a phase call `current_phase` inside their
transaction, so a vote arriving one second after voting ends is refused."""

from datetime import datetime

from app.call.models import Call, Phase, VotingMode
from app.clock import utcnow
from app.pagecache import expiry


def current_phase(call: Call, now: datetime | None = None) -> Phase:
    """The phase of `call` at `now` (default: the clock's now): the override when set, else the
    last phase whose start has passed. The technical review phase is a participatory budget's
    only (`Call.technical_review_start` is ignored for a call voting with supports)."""
    if call.phase_override:
        return Phase(call.phase_override)
    now = now or utcnow()
    boundaries = (
        (call.closes_at, Phase.closed),
        (call.results_start, Phase.results),
        (call.review_start, Phase.review),
        (call.voting_start, Phase.voting),
        (call.technical_review_start if call.voting_mode == VotingMode.budget else None, Phase.technical_review),
        (call.submissions_start, Phase.submissions),
    )
    # A page showing this phase is true until the next dated start (app.pagecache.expiry).
    if expiry.watching():
        expiry.changes_at(min((start for start, _phase in boundaries if start is not None and start > now),
                              default=None))
    for start, phase in boundaries:
        if start is not None and now >= start:
            return phase
    return Phase.draft


def accepts_ideas(call: Call, now: datetime | None = None) -> bool:
    return current_phase(call, now) == Phase.submissions


def accepts_votes(call: Call, now: datetime | None = None) -> bool:
    """Supports (app.vote); a participatory budget's call takes ballots instead (app.budget)."""
    if call.voting_mode == VotingMode.budget:
        return False
    phase = current_phase(call, now)
    return phase == Phase.voting or (phase == Phase.submissions and call.voting_during_submissions)


def accepts_comments(call: Call, now: datetime | None = None) -> bool:
    phase = current_phase(call, now)
    return (phase == Phase.submissions and call.comments_during_submissions) or (
        phase == Phase.voting and call.comments_during_voting
    )


def results_public(call: Call, now: datetime | None = None) -> bool:
    """Whether the call's selection (its winners and shortlist, a budget's funded projects) is
    public: in its results or closed phase. Before, it is the moderators' work in progress
    (app.moderation.results), shown to no one else: no tag, no API field, no filter."""
    return current_phase(call, now) in (Phase.results, Phase.closed)


def is_public(call: Call, now: datetime | None = None) -> bool:
    """Draft calls are seen by administrators only."""
    return current_phase(call, now) != Phase.draft
