"""Who hears of news told to many people at once (an idea's followers, a call's participants),
read a page at a time in the order of their account ids, so that telling them can be split:
the first IN_REQUEST people in the transaction of the action itself, the others by the worker,
BATCH people per transaction (app.notify.fanout), each page starting after the last id of
the one before.

Why split: each person costs a notification row and, for most, an e-mail composed and queued.
Told all in the request, a comment on an idea with 200 followers took 691 ms on SQLite (about
3.3 ms a person, all of it in the write turn every other writer of every process waits for),
and a call's results told to its 10,000 participants would have held that turn for about half
a minute. Now a request tells at most IN_REQUEST people (200 followers: 98 to 148 ms)."""

from enum import StrEnum
from typing import Any

from sqlalchemy import CompoundSelect, union
from sqlmodel import Session, col, select

from app.account.models import User
from app.authz import Action, can
from app.comment.models import Comment
from app.follow.models import Follow
from app.idea.models import Idea, IdeaStatus
from app.outbox import service as outbox
from app.vote.models import Vote

FANOUT_KIND = "notify_fanout"  # the outbox messages that tell the rest (app.notify.fanout)
IN_REQUEST = 100  # people told in the action's own transaction
BATCH = 200  # people told per transaction of the worker


class Audience(StrEnum):
    """Who hears of the news, `key` naming their idea or call. Of an idea, only those who may
    still see it: once moderation hides it, its title and news go to its author and the
    moderators, nobody else (also when it is hidden while the worker tells the rest)."""

    followers = "followers"  # of idea `key`
    supporters_and_followers = "supporters_and_followers"  # of idea `key`
    participants = "participants"  # of call `key`: see `_taking_part`


def page(session: Session, audience: Audience, key: int, *, after: int, limit: int) -> tuple[list[User], int | None]:
    """The active people of `audience` whose account id is above `after`, at most `limit` read,
    by id; with the last id read when there may be more after it (a full page), else None.
    Those of an idea's audience who may no longer see it are read but left out (`Audience`).
    No idea or call `key` (deleted since): nobody."""
    if audience == Audience.participants:
        ids: Any = _taking_part(key)
    else:
        ids = select(Follow.user_id).where(Follow.idea_id == key)
        if audience == Audience.supporters_and_followers:
            ids = union(ids, select(Vote.user_id).where(Vote.idea_id == key))
    people = list(session.exec(
        select(User).where(col(User.id).in_(ids), col(User.id) > after, col(User.banned_at).is_(None),
                           col(User.deleted_at).is_(None)).order_by(col(User.id)).limit(limit)
    ).all())
    last = people[-1].id if len(people) == limit else None
    if audience != Audience.participants:
        idea = session.get(Idea, key)
        people = [p for p in people if idea is not None and can(p, Action.idea_view, idea)]
    return people, last


def _taking_part(call_id: int) -> CompoundSelect:
    """The ids of the people who took part in a call: they follow, wrote (beyond a draft),
    supported or commented on one of its ideas."""
    idea_ids = select(Idea.id).where(Idea.call_id == call_id)
    return union(
        select(Follow.user_id).where(col(Follow.idea_id).in_(idea_ids)),
        select(col(Idea.author_id)).where(Idea.call_id == call_id, col(Idea.author_id).is_not(None),
                                          Idea.status != IdeaStatus.draft),
        select(Vote.user_id).where(Vote.call_id == call_id),
        select(col(Comment.author_id)).where(col(Comment.idea_id).in_(idea_ids), col(Comment.author_id).is_not(None)),
    )


def continue_later(session: Session, audience: Audience, key: int, *, after: int, excluded: list[int],
                   news: dict[str, Any]) -> None:
    """Queue, in the caller's transaction, the telling of `news` (`News.to_payload`'s JSON,
    app.notify.news) to the people of `audience` after id `after`,
    but those of `excluded` (told otherwise: the author answered, the actor)."""
    outbox.enqueue(session, FANOUT_KIND, {"audience": str(audience), "key": key, "after": after,
                                          "excluded": sorted(excluded), "news": news})
