"""A call's rules said plainly: when its current phase ends and how much time is left ("3 days
left to vote"), shown on the call page's rules block and on the home page's call cards.

The phase follows the clock (app.call.phases); an administrator's override has no end date, so
no time left is promised then."""

import math
from datetime import UTC, datetime, timedelta

from app.call.models import PHASE_ORDER, Call, Phase, VotingMode
from app.call.phases import current_phase
from app.clock import utcnow
from app.i18n import ngettext
from app.pagecache import expiry

HOURS_UNDER = 2  # below two days, hours say it better than "1 day left"


def phase_end(call: Call, now: datetime | None = None) -> datetime | None:
    """When the call's current phase ends: the next dated boundary after it, or None (an
    override, the last phase, or no later date set)."""
    if call.phase_override:
        return None
    phase = current_phase(call, now)
    starts = {Phase.technical_review: call.technical_review_start if call.voting_mode == VotingMode.budget else None,
              Phase.voting: call.voting_start, Phase.review: call.review_start,
              Phase.results: call.results_start, Phase.closed: call.closes_at}
    for later in PHASE_ORDER[PHASE_ORDER.index(phase) + 1:]:
        start = starts.get(later)
        if start is not None:
            return start
    return None


def time_left(call: Call, now: datetime | None = None) -> str:
    """The time left in the current phase, in the reader's language and plural form
    ("3 days left to vote", "5 hours left to propose ideas"), or "" when it has no end date or
    the phase is not one a citizen acts in or waits for."""
    now = now or utcnow()
    end = phase_end(call, now)
    phase = current_phase(call, now)
    if end is None or phase not in (Phase.submissions, Phase.voting, Phase.review):
        return ""
    end = end if end.tzinfo else end.replace(tzinfo=UTC)  # SQLite gives naive UTC back
    seconds = max((end - now).total_seconds(), 0)
    days = int(seconds // 86400)
    # The text changes when a day or an hour less is left (app.pagecache.expiry).
    expiry.changes_at(end - timedelta(days=days) if days >= HOURS_UNDER
                      else end - timedelta(hours=max(math.ceil(seconds / 3600), 1) - 1))
    if days >= HOURS_UNDER:
        if phase == Phase.submissions:
            return ngettext("{n} day left to propose ideas", "{n} days left to propose ideas", days)
        if phase == Phase.voting:
            return ngettext("{n} day left to vote", "{n} days left to vote", days)
        return ngettext("Results expected in {n} day", "Results expected in {n} days", days)
    hours = max(math.ceil(seconds / 3600), 1)
    if phase == Phase.submissions:
        return ngettext("{n} hour left to propose ideas", "{n} hours left to propose ideas", hours)
    if phase == Phase.voting:
        return ngettext("{n} hour left to vote", "{n} hours left to vote", hours)
    return ngettext("Results expected in {n} hour", "Results expected in {n} hours", hours)
