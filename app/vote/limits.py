"""Nobody holds more supports on public ideas than the call allows, whatever moderation does.

A support counts while its idea is published and visible, under the limit of the idea's call, or
of its current theme when the call counts supports per theme (app.vote.service: `counted`,
`bucket_conditions`). So a support can come back into a count without its supporter doing
anything:

- a hidden idea is restored (hidden by a moderator, by reports or with its suspended author);
- an idea sent back for changes, or held for review after an edit, is published again;
- a duplicate is merged into another idea (its supports move there);
- an idea moves to another theme (its author edits it), or its theme is deleted (its ideas are
  then without a theme).

Meanwhile the person may have used the place the support left free. The rule, which a city can
explain in one sentence: **what a person holds now stays; a support that comes back only takes
a free place.** When the supports coming back to one person do not all fit, the most recent of
them are kept while places remain and the others are set aside. Nothing else is touched: a
support given while the idea was away is the person's latest choice, and moderation never takes
it back.

A support set aside is not dropped silently: its row goes (the idea's counter with it), the
person is notified with why and a link to the idea (kind "support", app.notify), where they may
withdraw another support and give this one again, and the system's decision is written in the
audit log on the idea with the number of supports and the rule (not who: who supports what is
not for the moderators' log).

Race-proof on PostgreSQL: the caller takes `lock_supporters` (the people concerned, in id order)
and `share_call` before it locks the idea (app.locks: people, then the call, then the idea). A
support arriving at the same moment waits on its person's lock: either it was counted before
(and the support coming back is set aside) or it is counted after (and refused if no place is
left). On SQLite, write transactions are serial already.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.audit import REASON_OVER_LIMIT, AuditAction, AuditEntry, TargetType, record
from app.call.models import Call, VoteScope
from app.i18n import N_
from app.idea.models import Idea
from app.locks import lock_users
from app.notify import service as notify_service
from app.settings import Settings
from app.vote import service as vote_service
from app.vote.models import Vote

# Why a support came back into a count: what its supporter reads (notification and e-mail).
CAME_BACK = N_("The idea is public again, and in the meantime you had used all the supports allowed.")
MERGED = N_("A similar idea you supported was merged into this one, and you had already used all the supports "
            "allowed.")
MOVED = N_("The idea moved to another theme, where you had already used all the supports allowed.")
THEME_REMOVED = N_("The idea's theme was removed, and among the ideas without a theme you had already used all "
                   "the supports allowed.")


@dataclass(frozen=True)
class SetAside:
    """One support set aside: whose, on which idea."""

    user_id: int
    idea_id: int


def lock_supporters(session: Session, idea_ids: Iterable[int], *, also: Iterable[int] = ()) -> list[int]:
    """Lock the people who support any of `idea_ids` (and the people `also`, such as the author
    who edits), in ascending id, and return their ids. Call it before locking the ideas."""
    ids = list(idea_ids)
    supporters = session.exec(select(Vote.user_id).where(col(Vote.idea_id).in_(ids)).distinct()).all() \
        if ids else []
    return lock_users(session, [*supporters, *also])


def keep_within_limits(session: Session, settings: Settings, *, call: Call, idea_ids: Iterable[int], why: str,
                       only_users: Iterable[int] | None = None, decision: AuditEntry | None = None) -> list[SetAside]:
    """After supports on `idea_ids` (ideas of `call`) came back into a count or changed theme,
    set aside those over a limit, by the rule of this module, and tell each person why (`why`,
    one of the msgids above). `only_users` limits it to the people whose supports moved (a
    merge); `decision` is the audit entry of the moderator's decision that caused it, linked from
    the system's entry. Call it after the change, once `lock_supporters` was taken before the
    ideas were locked. Returns what was set aside (nothing when everyone fits)."""
    ids = sorted(set(idea_ids))
    if not ids:
        return []
    session.refresh(call)  # the rules as they are under the caller's share_call, not as first loaded
    # The theme is copied on each support for the index; the limits follow the idea's own.
    session.execute(update(Vote).where(col(Vote.idea_id).in_(ids)).values(
        category_id=select(Idea.category_id).where(col(Idea.id) == Vote.idea_id).scalar_subquery()))
    query = (select(Vote.id, Vote.user_id, Vote.idea_id, Idea.category_id)
             .join(Idea, col(Idea.id) == Vote.idea_id)
             .where(col(Vote.idea_id).in_(ids), *vote_service.counted())
             .order_by(col(Vote.created_at).desc(), col(Vote.id).desc()))
    if only_users is not None:
        query = query.where(col(Vote.user_id).in_(list(only_users)))
    returning = session.exec(query).all()
    # Already locked by the caller; a supporter the caller could not know of is locked now.
    lock_users(session, {user_id for _vote, user_id, _idea, _category in returning})
    per_scope = call.vote_scope == VoteScope.category
    groups: dict[tuple[int, int | None], list[tuple[int, int]]] = defaultdict(list)
    for vote_id, user_id, idea_id, category_id in returning:  # newest first
        assert vote_id is not None
        groups[(user_id, category_id if per_scope else None)].append((vote_id, idea_id))
    limit = call.votes_per_citizen
    set_aside: list[SetAside] = []
    vote_ids: list[int] = []
    for (user_id, category_id), votes in sorted(groups.items(), key=lambda item: item[0][0]):
        over = vote_service.held(session, user_id=user_id, call=call, category_id=category_id) - limit
        for vote_id, idea_id in votes[max(len(votes) - over, 0):] if over > 0 else []:  # the oldest go first
            vote_ids.append(vote_id)
            set_aside.append(SetAside(user_id=user_id, idea_id=idea_id))
    if not set_aside:
        return []
    session.execute(delete(Vote).where(col(Vote.id).in_(vote_ids)))
    per_idea: dict[int, int] = defaultdict(int)
    for item in set_aside:
        per_idea[item.idea_id] += 1
    ideas = {i.id: i for i in session.exec(select(Idea).where(col(Idea.id).in_(list(per_idea))))}
    people = {u.id: u for u in session.exec(select(User).where(col(User.id).in_([s.user_id for s in set_aside])))}
    for idea_id, removed in sorted(per_idea.items()):
        session.execute(update(Idea).where(col(Idea.id) == idea_id)
                        .values(vote_count=col(Idea.vote_count) - removed))
        details: dict[str, object] = {"supports": removed, "limit": limit, "scope": call.vote_scope, "why": why}
        if decision is not None:
            details["decision_entry"] = decision.id
        record(session, actor=None, action=AuditAction.set_aside_supports, target_type=TargetType.idea,
               target_id=idea_id, reason=REASON_OVER_LIMIT, details=details)
    for item in set_aside:
        person, idea = people.get(item.user_id), ideas.get(item.idea_id)
        if person is not None and idea is not None:
            notify_service.support_set_aside(session, settings, recipient=person, idea=idea, detail=why)
    return set_aside
