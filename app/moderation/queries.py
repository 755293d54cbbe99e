"""Read side of moderation: the queue's tabs with their filters and counts, the audit log."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.account.models import User
from app.audit import AuditEntry
from app.call.models import Call, Category, District
from app.clock import utcnow
from app.comment.models import Comment
from app.idea import queries as idea_queries
from app.idea.models import Idea, IdeaPhoto, IdeaStatus
from app.media.models import MediaFile
from app.report.models import Report
from app.richtext import html_excerpt

TABS = ("pending", "reported", "answers")
PAGE_SIZE = 50
# The queue's "waiting for at least" filter: nothing waits a century, and a larger number of days
# would overflow the date arithmetic (a 500) instead of finding nothing.
MAX_AGE_DAYS = 36_500


@dataclass
class QueueFilters:
    call_id: int | None = None
    category_id: int | None = None
    district_id: int | None = None
    older_than_days: int | None = None

    def as_query(self) -> dict[str, Any]:
        return {k: v for k, v in (("call", self.call_id), ("category", self.category_id),
                                  ("district", self.district_id), ("age", self.older_than_days)) if v}


EXCERPT_LENGTH = 160  # characters of an item's text shown in the queue


@dataclass
class QueueItem:
    kind: str  # "idea" or "comment"
    idea: Idea
    waiting_since: datetime
    comment: Comment | None = None
    reports: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def excerpt(self) -> str:
        """The start of the item's text (the comment's for a comment), plain, to judge it from the
        queue without opening it."""
        source = self.comment.body_html if self.kind == "comment" and self.comment else self.idea.body_html
        return html_excerpt(source, EXCERPT_LENGTH)


def _idea_filters(f: QueueFilters, since_column: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.call_id:
        where.append(col(Idea.call_id) == f.call_id)
    if f.category_id:
        where.append(col(Idea.category_id) == f.category_id)
    if f.district_id:
        where.append(col(Idea.district_id) == f.district_id)
    if f.older_than_days:
        where.append(since_column <= utcnow() - timedelta(days=f.older_than_days))
    return where


def _pending_where(f: QueueFilters) -> list[ColumnElement[bool]]:
    return [col(Idea.status) == IdeaStatus.submitted, *_idea_filters(f, func.coalesce(Idea.submitted_at,
                                                                                      Idea.created_at))]


def _answers_where(f: QueueFilters) -> list[ColumnElement[bool]]:
    return [col(Idea.status) == IdeaStatus.published, col(Idea.hidden_at).is_(None),
            col(Idea.answer_status).is_(None),
            *_idea_filters(f, func.coalesce(Idea.published_at, Idea.created_at))]


def _reported_where(f: QueueFilters) -> list[ColumnElement[bool]]:
    return [col(Report.resolved_at).is_(None), *_idea_filters(f, col(Report.created_at))]


def counts(session: Session, f: QueueFilters) -> dict[str, int]:
    """The number of items in each tab of the moderation queue under the filters `f`: pending ideas,
    reported items (an idea or comment counts once however many reports), ideas awaiting an official
    answer."""
    pending = session.exec(select(func.count()).select_from(Idea).where(*_pending_where(f))).one()
    answers = session.exec(select(func.count()).select_from(Idea).where(*_answers_where(f))).one()
    reported_targets = (
        select(Report.target_type, Report.target_id)
        .join(Idea, col(Idea.id) == col(Report.idea_id))
        .where(*_reported_where(f))
        .group_by(col(Report.target_type), col(Report.target_id))
        .subquery()
    )
    reported = session.exec(select(func.count()).select_from(reported_targets)).one()
    return {"pending": int(pending), "reported": int(reported), "answers": int(answers)}


def queue(session: Session, tab: str, f: QueueFilters, page: int = 1) -> list[QueueItem]:
    """One page of a tab, oldest first."""
    offset = (max(page, 1) - 1) * PAGE_SIZE
    if tab == "pending":
        since = func.coalesce(Idea.submitted_at, Idea.created_at)
        ideas = session.exec(select(Idea).where(*_pending_where(f)).order_by(since, col(Idea.id))
                             .offset(offset).limit(PAGE_SIZE)).all()
        return [QueueItem("idea", i, i.submitted_at or i.created_at) for i in ideas]
    if tab == "answers":
        since = func.coalesce(Idea.published_at, Idea.created_at)
        ideas = session.exec(select(Idea).where(*_answers_where(f)).order_by(since, col(Idea.id))
                             .offset(offset).limit(PAGE_SIZE)).all()
        return [QueueItem("idea", i, i.published_at or i.created_at) for i in ideas]
    rows = session.execute(
        sa.select(col(Report.target_type), col(Report.target_id), col(Report.idea_id), func.min(Report.created_at),
                  func.count(col(Report.id)))
        .join(Idea, col(Idea.id) == col(Report.idea_id))
        .where(*_reported_where(f))
        .group_by(col(Report.target_type), col(Report.target_id), col(Report.idea_id))
        .order_by(func.min(Report.created_at), col(Report.target_id))
        .offset(offset).limit(PAGE_SIZE)
    ).all()
    idea_ids = {r[2] for r in rows}
    comment_ids = {r[1] for r in rows if r[0] == "comment"}
    idea_map = {i.id: i for i in session.exec(select(Idea).where(col(Idea.id).in_(idea_ids))).all()}
    comment_map = ({c.id: c for c in session.exec(select(Comment).where(col(Comment.id).in_(comment_ids))).all()}
                if comment_ids else {})
    reasons: dict[tuple[str, int], list[str]] = {}
    if rows:
        for target_type, target_id, reason in session.exec(
            select(Report.target_type, Report.target_id, Report.reason)
            .where(col(Report.resolved_at).is_(None), col(Report.idea_id).in_(idea_ids))
        ).all():
            bucket = reasons.setdefault((target_type, target_id), [])
            if reason not in bucket:
                bucket.append(reason)
    items = []
    for target_type, target_id, idea_id, first, count in rows:
        comment = comment_map.get(target_id) if target_type == "comment" else None
        items.append(QueueItem(target_type, idea_map[idea_id], first, comment=comment, reports=int(count),
                               reasons=reasons.get((target_type, target_id), [])))
    return items


def ideas_of_person(session: Session, person_id: int, limit: int = 50) -> list[Idea]:
    """What a person proposed, newest first, as moderators may see it: never their drafts."""
    return list(session.exec(select(Idea).where(Idea.author_id == person_id, idea_queries.seen_by_moderators())
                             .order_by(col(Idea.created_at).desc()).limit(limit)).all())


def reported_comments(session: Session, idea_id: int) -> list[tuple[Comment, int]]:
    """The idea's comments with open reports, or hidden, with how many open reports each has."""
    open_reports = (
        select(Report.target_id, func.count(col(Report.id)).label("n"))
        .where(Report.target_type == "comment", Report.idea_id == idea_id, col(Report.resolved_at).is_(None))
        .group_by(col(Report.target_id)).subquery()
    )
    rows = session.exec(
        select(Comment, func.coalesce(open_reports.c.n, 0))
        .join(open_reports, open_reports.c.target_id == col(Comment.id), isouter=True)
        .where(Comment.idea_id == idea_id)
        .where((open_reports.c.n > 0) | col(Comment.hidden_at).is_not(None))
        .order_by(col(Comment.created_at))
    ).all()
    return [(comment, int(n)) for comment, n in rows]


def photos(session: Session, idea_id: int) -> list[tuple[IdeaPhoto, MediaFile]]:
    """The idea's photos, which moderators check too."""
    return [(p, m) for p, m in session.exec(
        select(IdeaPhoto, MediaFile).join(MediaFile, col(MediaFile.id) == col(IdeaPhoto.media_id))
        .where(IdeaPhoto.idea_id == idea_id).order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))
    ).all()]


def next_pending_after(session: Session, idea: Idea, tab: str) -> int | None:
    """The next idea of the same call to look at in a tab, so a moderator works through it."""
    same_call = QueueFilters(call_id=idea.call_id)
    where = _pending_where(same_call) if tab == "pending" else _answers_where(same_call)
    since = (func.coalesce(Idea.submitted_at, Idea.created_at) if tab == "pending"
             else func.coalesce(Idea.published_at, Idea.created_at))
    found = session.exec(select(Idea.id).where(*where, col(Idea.id) != idea.id).order_by(since, col(Idea.id))
                         .limit(1)).first()
    return found


def filter_choices(session: Session, call_id: int | None) -> dict[str, list[Any]]:
    """What the queue's filter menus offer: every call, the themes of call `call_id` (none without a call),
    every district."""
    calls = session.exec(select(Call).order_by(col(Call.created_at).desc())).all()
    categories = (session.exec(select(Category).where(Category.call_id == call_id).order_by(col(Category.position)))
                  .all() if call_id else [])
    districts = session.exec(select(District).order_by(col(District.position), col(District.name))).all()
    return {"calls": list(calls), "categories": list(categories), "districts": list(districts)}


# --- Audit log ----------------------------------------------------------------------------

@dataclass
class AuditFilters:
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    actor_id: int | None = None
    system: bool = False  # only the decisions the system took by itself (no actor)
    since: date | None = None  # from this day on (UTC), included
    until: date | None = None  # up to this day (UTC), included

    @property
    def actor_param(self) -> str:
        """The "actor" query parameter that selects these entries again ("system", an id, or "")."""
        return "system" if self.system else str(self.actor_id or "")


def audit_log(session: Session, f: AuditFilters, page: int = 1) -> list[tuple[AuditEntry, User | None]]:
    """One page (1-based, PAGE_SIZE entries) of the audit log under the filters `f`, newest first, each
    entry with its actor (None for the system or an erased actor)."""
    query = select(AuditEntry, User).join(User, col(User.id) == col(AuditEntry.actor_id), isouter=True)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.target_type:
        query = query.where(AuditEntry.target_type == f.target_type)
    if f.target_id:
        query = query.where(AuditEntry.target_id == f.target_id)
    if f.system:
        query = query.where(col(AuditEntry.actor_id).is_(None))
    elif f.actor_id:
        query = query.where(AuditEntry.actor_id == f.actor_id)
    if f.since:
        query = query.where(AuditEntry.created_at >= datetime.combine(f.since, time.min, tzinfo=UTC))
    if f.until:
        query = query.where(AuditEntry.created_at < datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=UTC))
    rows = session.exec(query.order_by(col(AuditEntry.id).desc()).offset((max(page, 1) - 1) * PAGE_SIZE)
                        .limit(PAGE_SIZE)).all()
    return [(entry, user) for entry, user in rows]


def entries_for(session: Session, target_type: str, target_id: int) -> list[tuple[AuditEntry, User | None]]:
    """The first page of audit entries about one target (an idea, comment or user), newest first."""
    return audit_log(session, AuditFilters(target_type=target_type, target_id=target_id))


def staff(session: Session) -> list[User]:
    """Every moderator and administrator, by name."""
    return list(session.exec(select(User).where(col(User.role).in_(("moderator", "admin")))
                             .order_by(col(User.display_name))).all())
