"""Reading ideas. Visibility lives here once: `public_ideas` is the only query behind listings,
the API, the CSV export and feeds, and `visible_idea` is the only way to load one idea for a
viewer (NotFound, never Forbidden, for what they may not see)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, bindparam, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app import authz
from app.account.models import User
from app.authz import Action
from app.call.models import Call, Category, District
from app.call.phases import current_phase, results_public
from app.db import get_or_not_found
from app.errors import NotFound
from app.i18n import N_
from app.idea import context as idea_context
from app.idea.history import history
from app.idea.models import (
    ANSWER_LABELS,
    PUBLIC_STATUSES,
    AnswerStatus,
    CallFiguresTally,
    Idea,
    IdeaPhoto,
    IdeaStatus,
    IdeaStatusChange,
)
from app.media.models import MediaFile
from app.params import parse_id

PER_PAGE = 24
SORTS = {
    "newest": N_("Newest"),
    "supported": N_("Most supported"),
    "discussed": N_("Most discussed"),
    "random": N_("Random"),
}
STATUS_LABELS = {
    IdeaStatus.draft: N_("Draft"),
    IdeaStatus.submitted: N_("Awaiting moderation"),
    IdeaStatus.changes_requested: N_("Changes requested"),
    IdeaStatus.published: N_("Published"),
    IdeaStatus.rejected: N_("Rejected"),
    IdeaStatus.withdrawn: N_("Withdrawn"),
    IdeaStatus.merged: N_("Merged into another idea"),
}
# The "status" filter of a listing: official answers and selection, over public ideas only.
STATUS_FILTERS: dict[str, str] = {
    "unanswered": N_("Awaiting an answer"),
    **{str(k): v for k, v in ANSWER_LABELS.items()},
    "shortlisted": N_("Shortlisted"),
    "winner": N_("Selected"),
}


@dataclass
class IdeaFilters:
    category_id: int | None = None
    district_id: int | None = None
    status: str = ""
    sort: str = "newest"
    page: int = 1
    seed: int = 0


@dataclass
class Card:
    idea: Idea
    excerpt: str
    category: Category | None
    district: District | None
    thumb: MediaFile | None = None
    thumb_photo: IdeaPhoto | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class IdeaPage:
    cards: list[Card]
    total: int
    page: int
    pages: int
    per_page: int


def public_condition() -> ColumnElement[bool]:
    """The only definition of "anyone may see this idea" in SQL (mirrors Idea.is_public)."""
    return col(Idea.status).in_([str(s) for s in PUBLIC_STATUSES]) & col(Idea.hidden_at).is_(None)


@dataclass(frozen=True)
class CallFigures:
    """A call's public figures: public ideas, their supports, and how many have an official answer."""

    ideas: int
    supports: int
    answered: int

    @property
    def answered_percent(self) -> int:
        """The share of public ideas with an official answer, in whole percent (0 without ideas)."""
        return round(100 * self.answered / self.ideas) if self.ideas else 0


def call_figures(session: Session, call_id: int) -> CallFigures:
    """The figures of the public ideas (`public_condition`) of call `call_id`: how many, the sum of
    their `vote_count`, how many have an `answer_status`; all 0 for a call without any (or none
    such). Read, not counted: one sum over the call's rows of `call_figures_tally` (at most 256, by
    the primary key), which the triggers of migration 0044 keep exact after every write of an
    idea. Counting scanned the call's public ideas: 131 ms at a million ideas."""
    tally: sa.Table = CallFiguresTally.__table__  # type: ignore[attr-defined]
    ideas, supports, answered = session.execute(
        sa.select(*(func.coalesce(func.sum(tally.c[name]), 0) for name in ("ideas", "supports", "answered")))
        .where(tally.c.call_id == call_id)).one()
    return CallFigures(int(ideas), int(supports), int(answered))


def seen_by_moderators() -> ColumnElement[bool]:
    """Ideas moderators may see, in SQL (mirrors app.authz.never_submitted): all but the drafts
    never submitted, which their author was told only they can see."""
    never_submitted = (col(Idea.status) == IdeaStatus.draft) | (
        (col(Idea.status) == IdeaStatus.withdrawn) & col(Idea.submitted_at).is_(None))
    return ~never_submitted


def public_ideas(call_id: int | Sequence[int], filters: IdeaFilters | None = None, *,
                 selected_in: Sequence[int] = ()) -> SelectOfScalar[Idea]:
    """The public ideas of a call, filtered and sorted: the base of every listing. `call_id`
    may be several calls' ids (the map of every call's ideas, app.maps). The "shortlisted" and
    "winner" filters keep only ideas of the calls `selected_in` (ids of calls whose results are
    out: app.call.phases.results_public), so that nobody learns a selection before it is
    published."""
    filters = filters or IdeaFilters()
    in_calls = Idea.call_id == call_id if isinstance(call_id, int) else col(Idea.call_id).in_(list(call_id))
    query = select(Idea).where(in_calls, public_condition())
    if filters.category_id is not None:
        query = query.where(Idea.category_id == filters.category_id)
    if filters.district_id is not None:
        query = query.where(Idea.district_id == filters.district_id)
    if filters.status == "unanswered":
        query = query.where(col(Idea.answer_status).is_(None))
    elif filters.status == "shortlisted":
        query = query.where(col(Idea.shortlisted).is_(True), col(Idea.call_id).in_(list(selected_in)))
    elif filters.status == "winner":
        query = query.where(col(Idea.winner).is_(True), col(Idea.call_id).in_(list(selected_in)))
    elif filters.status in set(AnswerStatus):
        query = query.where(Idea.answer_status == filters.status)
    return query.order_by(*list_order(filters))


def list_order(filters: IdeaFilters) -> list[ColumnElement[Any]]:
    """The ORDER BY of a listing sorted as `filters.sort` says. Newest, most supported and most
    discussed walk an index of the call's ideas (migration 0039) backwards."""
    newest: list[ColumnElement[Any]] = [col(Idea.published_at).desc(), col(Idea.id).desc()]
    if filters.sort == "supported":
        return [col(Idea.vote_count).desc(), *newest]
    if filters.sort == "discussed":
        return [col(Idea.comment_count).desc(), *newest]
    if filters.sort == "random":
        # A shuffle that is stable for one seed (carried by the page's links) and portable
        # across databases. Multiplying by a seed-dependent factor modulo a prime permutes the
        # ids; in 64 bits, since id × factor passes PostgreSQL's 32-bit integer.
        factor = (filters.seed * 2_654_435_761) % 999_983 + 1
        wide_id = sa.cast(col(Idea.id), sa.BigInteger)
        return [(wide_id * factor + filters.seed) % 1_000_003, col(Idea.id).asc()]
    return newest


def selected_ideas(session: Session, call_id: int) -> list[Idea]:
    """The winners of a call, most supported first: what its results show."""
    return list(session.exec(public_ideas(call_id, IdeaFilters(status="winner", sort="supported"),
                                          selected_in=[call_id])))


SEED_LIMIT = 1_000_000_000  # seeds are 0 to 999,999,999 (nine digits)


def parse_seed(text: str | None) -> int | None:
    """A random order's seed from a link or a cookie: at most nine ASCII digits, else None."""
    text = text or ""
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return int(text)
    return None


def clean_filters(category: str, district: str, status: str, sort: str, page: str, seed: int) -> IdeaFilters:
    """The call page's filters read from query-string values: unknown or malformed values fall back to no
    filter, the newest first and page 1 (page bounded to 100,000)."""
    return IdeaFilters(
        category_id=parse_id(category),
        district_id=parse_id(district),
        status=status if status in STATUS_FILTERS else "",
        sort=sort if sort in SORTS else "newest",
        page=max(1, min(parse_id(page) or 1, 100_000)),
        seed=seed,
    )


def count(session: Session, query: SelectOfScalar[Idea]) -> int:
    """The number of rows `query` would return (its ORDER BY dropped)."""
    return int(session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one())


def cards_for(session: Session, ideas: list[Idea], *, themes: Sequence[Category] | None = None,
              districts: Sequence[District] | None = None) -> list[Card]:
    """Cards with their theme, district and first photo, in three queries whatever the count;
    one when the call's `themes` and the `districts` are given (read once for the page)."""
    category_ids = {i.category_id for i in ideas if i.category_id}
    district_ids = {i.district_id for i in ideas if i.district_id}
    if themes is not None:
        categories = {c.id: c for c in themes}
    else:
        categories = {c.id: c for c in session.exec(select(Category).where(col(Category.id).in_(category_ids)))} \
            if category_ids else {}
    if districts is not None:
        places = {d.id: d for d in districts}
    else:
        places = {d.id: d for d in session.exec(select(District).where(col(District.id).in_(district_ids)))} \
            if district_ids else {}
    first_photo: dict[int, tuple[IdeaPhoto, MediaFile]] = {}
    ids = [i.id for i in ideas if i.id is not None]
    if ids:
        rows = session.exec(
            select(IdeaPhoto, MediaFile).join(MediaFile, col(MediaFile.id) == IdeaPhoto.media_id)
            .where(col(IdeaPhoto.idea_id).in_(ids)).order_by(col(IdeaPhoto.position).desc(), col(IdeaPhoto.id).desc())
        ).all()
        for photo, media in rows:  # the last assignment wins: the lowest position
            first_photo[photo.idea_id] = (photo, media)
    cards = []
    for idea in ideas:
        photo_media = first_photo.get(idea.id or 0)
        cards.append(Card(
            idea=idea, excerpt=idea.excerpt,
            category=categories.get(idea.category_id), district=places.get(idea.district_id),
            thumb_photo=photo_media[0] if photo_media else None, thumb=photo_media[1] if photo_media else None,
        ))
    return cards


def idea_page(session: Session, call: Call, filters: IdeaFilters, per_page: int = PER_PAGE, *,
              themes: Sequence[Category] | None = None, districts: Sequence[District] | None = None,
              figures: CallFigures | None = None) -> IdeaPage:
    """One page of the public ideas of `call` under `filters`: cards, total, page (clamped to the last
    page) and page count. `themes` (the call's), `districts` and `figures` (the call's, `call_figures`),
    when given, spare reading them."""
    assert call.id is not None
    query = public_ideas(call.id, filters, selected_in=[call.id] if results_public(call) else [])
    # Unfiltered, the list holds the call's public ideas and nothing else, in every phase (a
    # selection only narrows the "shortlisted" and "winner" filters): the number the triggers
    # keep (call_figures), where a COUNT read every one of them (90 ms at a million ideas).
    unfiltered = filters.category_id is None and filters.district_id is None and not filters.status
    if unfiltered and figures is None:
        figures = call_figures(session, call.id)
    total = figures.ideas if unfiltered and figures is not None else count(session, query)
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    # The page's ids first, then their rows: the order, the offset and the filters are read
    # from an index (migration 0039) and only the page's rows from the table. Selecting the rows
    # at once made the database sort whole rows, bodies included, for the random order
    # (measured at 33,000 ideas in a call, SQLite: 1.6 s cold, 57 ms warm -> 26 ms).
    page_ids = query.with_only_columns(col(Idea.id)).offset((page - 1) * per_page).limit(per_page).subquery()
    ideas = list(session.exec(select(Idea).join(page_ids, page_ids.c.id == col(Idea.id))
                              .order_by(*list_order(filters))))
    return IdeaPage(cards=cards_for(session, ideas, themes=themes, districts=districts), total=total, page=page,
                    pages=pages, per_page=per_page)


def ideas_of_author(session: Session, author: User) -> list[tuple[Idea, Call]]:
    """Everything a person proposed, newest first, with its call (for "my ideas")."""
    rows = session.exec(select(Idea, Call).join(Call, col(Call.id) == Idea.call_id)
                        .where(Idea.author_id == author.id).order_by(col(Idea.created_at).desc())).all()
    return [(idea, call) for idea, call in rows]


# Built once: every action on an idea runs it (building it was 7% of a support's time in its
# write turn, profiled in that thread; issue 14).
_IDEA_AND_CALL = select(Idea, Call).join(Call, col(Call.id) == Idea.call_id).where(col(Idea.id) == bindparam("idea_id"))


def visible_idea(session: Session, idea_id: int, viewer: User | None) -> tuple[Idea, Call]:
    """The idea and its call if the viewer may see both; NotFound otherwise (no 403: a private
    idea's existence is not revealed)."""
    # One statement for both (every action on an idea starts here: a vote, a comment...).
    row = session.exec(_IDEA_AND_CALL, params={"idea_id": idea_id}).first()
    if row is None or not authz.can(viewer, Action.idea_view, row[0]):
        raise NotFound()
    idea, call = row
    if not authz.can(viewer, Action.call_view, call):  # as visible_call_by_id: a hidden call looks missing
        raise NotFound()
    return idea, call


def idea_page_context(session: Session, idea: Idea, viewer: User | None) -> dict[str, Any]:
    """Everything the idea page shows, built in one place. Other domains (votes, comments,
    following) add their own keys here with one line each."""
    call = get_or_not_found(session, Call, idea.call_id)
    assert idea.id is not None
    author = session.get(User, idea.author_id) if idea.author_id else None
    photos = session.exec(
        select(IdeaPhoto, MediaFile).join(MediaFile, col(MediaFile.id) == IdeaPhoto.media_id)
        .where(IdeaPhoto.idea_id == idea.id).order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))
    ).all()
    target = (idea, call)
    context: dict[str, Any] = {
        "idea": idea,
        "call": call,
        "phase": current_phase(call),
        "selection_public": results_public(call),
        "author": author,
        "category": session.get(Category, idea.category_id) if idea.category_id else None,
        "district": session.get(District, idea.district_id) if idea.district_id else None,
        "photos": [{"photo": p, "media": m} for p, m in photos],
        "history": history(session, idea),
        "merged_into": _visible_or_none(session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None,
                                        viewer),
        "status_labels": STATUS_LABELS,
        "answer_labels": ANSWER_LABELS,
        "may_edit": authz.can(viewer, Action.idea_edit, target),
        "may_submit": authz.can(viewer, Action.idea_submit, target),
        "may_withdraw": authz.can(viewer, Action.idea_withdraw, target),
    }
    context["requested_changes"] = requested_changes(session, idea) if context["may_edit"] else None
    context.update(idea_context.idea_page_extras(session, idea=idea, call=call, viewer=viewer))
    return context


def requested_changes(session: Session, idea: Idea) -> str | None:
    """What the moderators asked the author to change, while the idea waits for those changes
    (the note of its latest move to changes_requested); None otherwise. For the author's eyes:
    the idea page and the edit form show it at the top."""
    if idea.status != IdeaStatus.changes_requested:
        return None
    return session.exec(select(IdeaStatusChange.note)
                        .where(IdeaStatusChange.idea_id == idea.id,
                               IdeaStatusChange.to_status == IdeaStatus.changes_requested)
                        .order_by(col(IdeaStatusChange.id).desc()).limit(1)).first()


def _visible_or_none(idea: Idea | None, viewer: User | None) -> Idea | None:
    """An idea this page links to, named only if the viewer may see it."""
    return idea if idea is not None and authz.can(viewer, Action.idea_view, idea) else None


def photo_ids(session: Session, idea_ids: list[int]) -> dict[int, list[int]]:
    """The photo ids of each of `idea_ids` in display order, as {idea_id: [photo_id, ...]}; ideas without
    photos are absent."""
    result: dict[int, list[int]] = {}
    if not idea_ids:
        return result
    rows = session.exec(select(IdeaPhoto.idea_id, IdeaPhoto.id).where(col(IdeaPhoto.idea_id).in_(idea_ids))
                        .order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))).all()
    for idea_id, photo_id in rows:
        if photo_id is not None:
            result.setdefault(idea_id, []).append(photo_id)
    return result
