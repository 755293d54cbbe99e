"""Participation figures for the council: who took part, how, where, when; how the city answered;
how much moderation it took. Per call or for the whole platform.

Two scopes, one definition each:
- `staff` (the participation report, behind Action.council_report): every idea moderators may see
  (`app.idea.queries.seen_by_moderators`: all but drafts never submitted, so hidden and rejected
  ideas count as ideas received), the supports of those ideas, and their comments not deleted by
  their authors (comments hidden by moderation included: they were participation too).
- `public` (the open-data API): public ideas only (`app.idea.queries.public_condition`), their
  supports, and their comments neither deleted nor hidden.

Every figure is aggregated in SQL: one statement for the counts of every breakdown and one for
the distinct participants of every breakdown, whatever the number of ideas (`participation`).
Weeks are ISO weeks in the city's time zone (`app.i18n.CITY_TZ`), computed in the database.
Nothing is computed that is not stored: the age band is the one recorded when a resident was
verified, from the provider's birthdate claim (app.residents.service.AGE_BANDS; unknown for
everyone else: the platform asks nobody's age); the language is the interface language each
participant chose (User.language), and "written" the language of the idea or comment.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from statistics import median
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col

from app.account.models import User
from app.audit import AuditAction, AuditEntry, TargetType
from app.call.models import Call, Category, District
from app.comment.models import Comment
from app.i18n import CITY_TZ
from app.idea import queries as idea_queries
from app.idea.models import Idea, IdeaStatus
from app.intake.models import Channel, IdeaIntake
from app.intake.service import ONLINE
from app.moderation import dialogue
from app.report.models import Report
from app.residents.models import ResidentVerification
from app.residents.service import AGE_BANDS
from app.vote.models import Vote

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"

KINDS = ("idea", "support", "comment")
DIMENSIONS = ("all", "district", "theme", "week", "language", "written", "verification", "age", "channel")
# Decisions by staff on ideas and comments, as written in the audit log (app.audit).
DECISIONS = (AuditAction.approve, AuditAction.request_changes, AuditAction.reject, AuditAction.hide,
             AuditAction.restore, AuditAction.merge, AuditAction.answer, AuditAction.shortlist,
             AuditAction.winner, "dismiss_reports")
MAX_FILLED_WEEKS = 53  # empty weeks between the first and the last are shown over a year at most


@dataclass
class Slice:
    """The figures of one part of a breakdown (a district, a theme, a week...), or of the whole."""

    key: str
    label: str = ""
    ideas: int = 0
    supports: int = 0
    comments: int = 0
    participants: int = 0  # distinct people who did any of the three
    submitters: int = 0
    supporters: int = 0
    commenters: int = 0


@dataclass
class Workload:
    moderator: str  # a display name, or "" for the system
    decisions: int


@dataclass
class Participation:
    """The participation report of one call (`call`) or of the platform (`call` None)."""

    call: Call | None
    scope: str
    total: Slice
    by: dict[str, list[Slice]]  # DIMENSIONS but "all" -> rows in display order
    answers: dialogue.DialogueFigures | None = None  # answer rate and delays (app.moderation.dialogue)
    workload: list[Workload] = field(default_factory=list)
    decided_ideas: int = 0  # ideas with at least one decision by a person
    median_first_decision_days: float | None = None
    reports: int = 0
    reports_handled: int = 0
    generated_at: datetime | None = None


def _visible(scope: str) -> sa.ColumnElement[bool]:
    return idea_queries.public_condition() if scope == "public" else idea_queries.seen_by_moderators()


def _events(call_id: int | None, scope: str) -> sa.CTE:
    """One row per idea, support and comment counted: (kind, person, district, theme, at, channel),
    `channel` being how the idea concerned came in: "online", or the channel staff entered it from
    on a resident's behalf (app.intake; such an idea has no author, so no person)."""
    where: list[Any] = [_visible(scope)]
    if call_id is not None:
        where.append(col(Idea.call_id) == call_id)
    channel = func.coalesce(col(IdeaIntake.channel), sa.literal(ONLINE))
    intake = (IdeaIntake, col(IdeaIntake.idea_id) == col(Idea.id))
    ideas: Any = (sa.select(sa.literal("idea").label("kind"), col(Idea.author_id).label("person"),
                            col(Idea.district_id).label("district"), col(Idea.category_id).label("theme"),
                            func.coalesce(Idea.submitted_at, Idea.published_at, Idea.created_at).label("at"),
                            channel.label("channel"), col(Idea.language).label("written"))
                  .select_from(Idea).outerjoin(*intake).where(*where))
    supports = (sa.select(sa.literal("support"), col(Vote.user_id), col(Idea.district_id), col(Idea.category_id),
                          col(Vote.created_at), channel, col(Idea.language))
                .join(Idea, col(Idea.id) == col(Vote.idea_id)).outerjoin(*intake).where(*where))
    comment_where = [*where, col(Comment.deleted_at).is_(None)]
    if scope == "public":
        comment_where.append(col(Comment.hidden_at).is_(None))
    comments = (sa.select(sa.literal("comment"), col(Comment.author_id), col(Idea.district_id),
                          col(Idea.category_id), col(Comment.created_at), channel, col(Comment.language))
                .join(Idea, col(Idea.id) == col(Comment.idea_id)).outerjoin(*intake).where(*comment_where))
    return sa.union_all(ideas, supports, comments).cte("events")


@lru_cache(maxsize=4)
def _offsets(first_year: int, last_year: int) -> tuple[tuple[datetime, int], ...]:
    """The city's UTC offsets (in minutes) and the UTC instants they start at, from zoneinfo:
    ((start, minutes), ...) from `first_year` to `last_year`, the first one starting at its 1 January."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)

    def offset(at: datetime) -> int:
        value = at.astimezone(CITY_TZ).utcoffset()
        return int(value.total_seconds() // 60) if value else 0

    found = [(start, offset(start))]
    day = start
    while day < end:
        following = day + timedelta(days=1)
        if offset(following) != found[-1][1]:
            hour = day
            while offset(hour) == found[-1][1]:
                hour += timedelta(minutes=15)
            found.append((hour, offset(hour)))
        day = following
    return tuple(found)


def _week_start(session: Session, at: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The Monday (YYYY-MM-DD) of the ISO week of `at`, in the city's time zone, computed in SQL.
    PostgreSQL converts with its own time-zone database; SQLite, which has none, with the
    offsets of zoneinfo, written into the statement as a CASE (two changes a year)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone(str(CITY_TZ), at)), "YYYY-MM-DD")
    this_year = datetime.now(UTC).year
    offsets = _offsets(2000, this_year + 2)
    whens = [(at < sa.literal(offsets[i + 1][0].strftime("%Y-%m-%d %H:%M:%S")),
              func.datetime(at, f"{minutes:+d} minutes")) for i, (_start, minutes) in enumerate(offsets[:-1])]
    local = sa.case(*whens, else_=func.datetime(at, f"{offsets[-1][1]:+d} minutes"))
    weekday_from_monday = (sa.cast(func.strftime("%w", local), sa.Integer) + 6) % 7
    return func.date(local, sa.literal("-") + sa.cast(weekday_from_monday, sa.String) + sa.literal(" days"))


def _keys(session: Session, ev: Any) -> dict[str, sa.ColumnElement[Any]]:
    verified = sa.case((col(ResidentVerification.id).is_not(None), sa.literal("verified")),
                       else_=sa.literal("not_verified"))
    return {
        "all": sa.literal(""),
        "district": sa.cast(ev.c.district, sa.String),
        "theme": sa.cast(ev.c.theme, sa.String),
        "week": sa.cast(_week_start(session, ev.c.at), sa.String),
        "language": sa.cast(col(User.language), sa.String),
        "verification": verified,
        "age": sa.cast(func.coalesce(col(ResidentVerification.age_band), sa.literal("")), sa.String),
        "channel": sa.cast(ev.c.channel, sa.String),
        "written": sa.cast(func.coalesce(ev.c.written, sa.literal("")), sa.String),
    }


def _counted(session: Session, events: sa.CTE, *, per_kind: bool) -> list[Any]:
    """Rows (dimension, key, kind, count, distinct people) of every breakdown, in one statement;
    with `per_kind` False, kind is "" and the people are counted across the three kinds."""
    parts = []
    for name in DIMENSIONS:
        key = _keys(session, events)[name]
        kind = events.c.kind if per_kind else sa.literal("")
        part = (sa.select(sa.literal(name).label("dimension"), key.label("key"), sa.cast(kind, sa.String).label("k"),
                          func.count().label("n"), func.count(sa.distinct(events.c.person)).label("people"))
                .select_from(events)
                .join(User, col(User.id) == events.c.person, isouter=True)
                .join(ResidentVerification, col(ResidentVerification.user_id) == events.c.person, isouter=True)
                .group_by(key, *([events.c.kind] if per_kind else [])))
        parts.append(part)
    return list(session.execute(sa.union_all(*parts)).all())


def _slices(rows_by_kind: list[Any], rows_all: list[Any]) -> dict[str, dict[str, Slice]]:
    found: dict[str, dict[str, Slice]] = {name: {} for name in DIMENSIONS}
    for dimension, key, kind, n, people in rows_by_kind:
        part = found[dimension].setdefault(key or "", Slice(key or ""))
        if kind == "idea":
            part.ideas, part.submitters = int(n), int(people)
        elif kind == "support":
            part.supports, part.supporters = int(n), int(people)
        else:
            part.comments, part.commenters = int(n), int(people)
    for dimension, key, _kind, _n, people in rows_all:
        found[dimension].setdefault(key or "", Slice(key or "")).participants = int(people)
    return found


def _weeks(parts: dict[str, Slice]) -> list[Slice]:
    """Weeks in order, labelled as ISO weeks (2026-W05), with the empty ones in between."""
    mondays = sorted(date.fromisoformat(key[:10]) for key in parts if key)
    if not mondays:
        return []
    by_monday = {date.fromisoformat(key[:10]): part for key, part in parts.items() if key}
    if (mondays[-1] - mondays[0]).days // 7 < MAX_FILLED_WEEKS:
        span = (mondays[-1] - mondays[0]).days // 7 + 1
        mondays = [mondays[0] + timedelta(weeks=n) for n in range(span)]
    rows = []
    for monday in mondays:
        part = by_monday.get(monday, Slice(monday.isoformat()))
        year, week, _day = monday.isocalendar()
        part.key, part.label = monday.isoformat(), f"{year}-W{week:02d}"
        rows.append(part)
    return rows


def participation(session: Session, call: Call | None = None, *, scope: str = "staff",
                  now: datetime | None = None) -> Participation:
    """The figures of `call` (None: the whole platform) in `scope` ("staff" or "public", see the
    module docstring). Labels of districts and themes are their names; keys without one (an idea
    with no district) get the label "" for the template to name. The staff scope adds the dialogue
    figures (app.moderation.dialogue) and the moderation workload. A bounded number of statements."""
    call_id = call.id if call else None
    events = _events(call_id, scope)
    found = _slices(_counted(session, events, per_kind=True), _counted(session, events, per_kind=False))
    districts = {str(d.id): d.name for d in session.execute(sa.select(District).order_by(col(District.position),
                                                                                           col(District.id))).scalars()}
    theme_query = sa.select(Category, col(Call.slug)).join(Call, col(Call.id) == col(Category.call_id))
    if call_id is not None:
        theme_query = theme_query.where(col(Category.call_id) == call_id)
    themes = {str(c.id): c.name if call_id is not None else f"{c.name} ({slug})"
              for c, slug in session.execute(theme_query.order_by(col(Category.call_id), col(Category.position),
                                                                  col(Category.id))).all()}

    def named(parts: dict[str, Slice], names: dict[str, str]) -> list[Slice]:
        rows = []
        for key, name in names.items():
            part = parts.get(key, Slice(key))
            part.label = name
            rows.append(part)
        if "" in parts:
            rows.append(parts[""])  # no district, or no theme: the template names it
        return rows

    by = {
        "district": named(found["district"], districts),
        "theme": named(found["theme"], themes),
        "week": _weeks(found["week"]),
        "language": sorted(found["language"].values(), key=lambda s: s.key),
        # The language ideas and comments are written in (app.contentlang; "" when not recorded:
        # written before migration 0024, or too short to tell); supports go with their idea's.
        "written": sorted(found["written"].values(), key=lambda s: (s.key == "", s.key)),
        "verification": [found["verification"].get(key, Slice(key)) for key in ("verified", "not_verified")],
        # Every band, then the participants whose age is not known ("").
        "age": [found["age"].get(key, Slice(key)) for key in (*AGE_BANDS, "")],
        "channel": [found["channel"].get(key, Slice(key)) for key in (ONLINE, *(str(c) for c in Channel))],
    }
    for part in by["language"] + by["written"] + by["verification"] + by["age"] + by["channel"]:
        part.label = part.key
    total = found["all"].get("", Slice(""))
    report = Participation(call=call, scope=scope, total=total, by=by, generated_at=now or datetime.now(UTC))
    if scope == "staff":
        report.answers = dialogue.figures(session, call_id, now=now)
        _moderation(session, report, call_id)
    return report


def _moderation(session: Session, report: Participation, call_id: int | None) -> None:
    """Decisions per moderator (on the ideas of the call and their comments), days from an idea's
    submission to the first decision a person took on it (not on its comments), reports made and
    handled (resolved)."""
    decisions = sa.select(AuditEntry).where(col(AuditEntry.action).in_([str(a) for a in DECISIONS])).subquery()
    idea_of_comment = sa.select(col(Comment.idea_id)).where(col(Comment.id) == decisions.c.target_id) \
        .scalar_subquery()
    idea_id = sa.case((decisions.c.target_type == TargetType.idea, decisions.c.target_id),
                      (decisions.c.target_type == TargetType.comment, idea_of_comment), else_=None)
    in_scope = sa.select(decisions.c.id, decisions.c.actor_id, decisions.c.created_at, decisions.c.target_type,
                         idea_id.label("idea_id")).subquery()
    where: list[Any] = [in_scope.c.idea_id.is_not(None)]
    if call_id is not None:
        where.append(in_scope.c.idea_id.in_(sa.select(col(Idea.id)).where(col(Idea.call_id) == call_id)))
    rows = session.execute(
        sa.select(col(User.display_name), func.count()).select_from(in_scope)
        .join(User, col(User.id) == in_scope.c.actor_id, isouter=True).where(*where)
        .group_by(in_scope.c.actor_id, col(User.display_name))
        .order_by(func.count().desc(), col(User.display_name))
    ).all()
    report.workload = [Workload(name or "", int(n)) for name, n in rows]
    first = (sa.select(in_scope.c.idea_id, func.min(in_scope.c.created_at).label("first"))
             .where(*where, in_scope.c.actor_id.is_not(None), in_scope.c.target_type == TargetType.idea)
             .group_by(in_scope.c.idea_id).subquery())
    pairs = session.execute(
        sa.select(func.coalesce(Idea.submitted_at, Idea.created_at), first.c.first)
        .join(first, first.c.idea_id == col(Idea.id))
        .where(col(Idea.status) != IdeaStatus.draft)
    ).all()
    delays = [max((_aware(decided) - _aware(start)).total_seconds(), 0) / 86400
              for start, decided in pairs if start and decided]
    report.decided_ideas = len(delays)
    report.median_first_decision_days = round(median(delays), 1) if delays else None
    report_query = sa.select(func.count(), func.count(col(Report.resolved_at)))
    if call_id is not None:
        report_query = report_query.join(Idea, col(Idea.id) == col(Report.idea_id)) \
            .where(col(Idea.call_id) == call_id)
    total, handled = session.execute(report_query).one()
    report.reports, report.reports_handled = int(total), int(handled)


def _aware(value: datetime | str) -> datetime:
    """SQLite hands back naive datetimes (or strings) from aggregates; they are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
