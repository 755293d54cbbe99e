"""Ideas, their photos, their public status history and the versions of their wording."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_
from app.richtext import html_excerpt


class IdeaStatus(StrEnum):
    draft = "draft"  # only the author sees it
    submitted = "submitted"  # waiting for a moderator (pre-moderated calls)
    changes_requested = "changes_requested"  # back with the author, who edits and resubmits
    published = "published"  # public
    rejected = "rejected"  # refused by a moderator, with a reason; author and moderators only
    withdrawn = "withdrawn"  # taken back by its author
    merged = "merged"  # a duplicate folded into another idea (merged_into_id)


# Statuses anyone may see (unless the idea is hidden by moderation).
PUBLIC_STATUSES = frozenset({IdeaStatus.published, IdeaStatus.merged})


class AnswerStatus(StrEnum):
    """The city's official answer, given by a moderator on a published idea."""

    under_study = "under_study"
    accepted = "accepted"
    partly_accepted = "partly_accepted"
    rejected = "rejected"
    implemented = "implemented"


# What each official answer is called, wherever it is shown (listings, moderation, e-mails).
ANSWER_LABELS = {
    AnswerStatus.under_study: N_("Under study"),
    AnswerStatus.accepted: N_("Accepted"),
    AnswerStatus.partly_accepted: N_("Partly accepted"),
    AnswerStatus.rejected: N_("Not retained"),
    AnswerStatus.implemented: N_("Implemented"),
}


# The columns search reads of a candidate idea: visibility (app.idea.queries.public_condition,
# merged), filters and facets, sorts; migration 0016 indexes them with the id.
SEARCH_COLUMNS = ("status", "hidden_at", "call_id", "category_id", "district_id", "answer_status", "vote_count",
                  "published_at")


# The list's filters and its indexed orders (the random order is computed: app.idea.queries).
LIST_FILTER_COLUMNS = ("status", "hidden_at", "category_id", "district_id", "answer_status")
LIST_ORDER_COLUMNS = {"newest": ("published_at", "id"), "supported": ("vote_count", "published_at", "id"),
                      "discussed": ("comment_count", "published_at", "id")}


ANSWERED = "answered_at IS NOT NULL AND answer_status IS NOT NULL"

# Partial indexes of the dialogue figures: (name, columns, condition).
_VISIBLE = "status = 'published' AND hidden_at IS NULL"
_DELAY_DATES = ("published_at", "created_at", "first_answer_at", "answered_at")
DIALOGUE_INDEXES = (
    # With the dates the median is computed from: the OFFSET skips index entries only (PostgreSQL
    # fetched each skipped row from the table: 20 ms instead of 2 for 16,000).
    ("ix_idea_answer_days", ("call_id", "answer_days", *_DELAY_DATES), f"{_VISIBLE} AND answer_days IS NOT NULL"),
    ("ix_idea_answer_days_all", ("answer_days", *_DELAY_DATES), f"{_VISIBLE} AND answer_days IS NOT NULL"),
    ("ix_idea_unanswered", ("call_id", "published_at", "created_at"), f"{_VISIBLE} AND answer_status IS NULL"),
    ("ix_idea_unanswered_all", ("published_at", "created_at"), f"{_VISIBLE} AND answer_status IS NULL"),
)


class Idea(SQLModel, table=True):
    __tablename__ = "idea"
    __table_args__ = (
        sa.Index("ix_idea_call_status", "call_id", "status"),
        # A call's list in each order it offers, with what it filters on: the count, the filters
        # and deep pages read the index alone (migration 0039; app.idea.queries.idea_page).
        *(sa.Index(f"ix_idea_list_{name}", "call_id", *order, *LIST_FILTER_COLUMNS)
          for name, order in LIST_ORDER_COLUMNS.items()),
        # A person's ideas, in a call ("my ideas" on its page) or everywhere: with the author
        # alone, SQLite's planner read the call's 33,000 ideas instead (migration 0039).
        sa.Index("ix_idea_author_call", "author_id", "call_id", "created_at"),
        # What a search reads of each of its (up to 1,001) candidates, found by id without
        # reading the wide row (titles, bodies twice, answers): app.search.backend._candidates.
        sa.Index("ix_idea_search_columns", "id", *SEARCH_COLUMNS),
        # The ideas of a theme or a district, for a search filtered by them (migration 0018).
        sa.Index("ix_idea_category_filters", "category_id", "call_id", "district_id"),
        sa.Index("ix_idea_district_filters", "district_id", "call_id", "category_id"),
        # The dialogue figures (app.moderation.dialogue, migration 0041): the middle answer
        # delay read at an OFFSET, the unanswered ideas counted by date.
        *(sa.Index(name, *columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
          for name, columns, where in DIALOGUE_INDEXES),
        # The latest official answers (the home page, app.pages.home.recent_answers): the
        # answered ideas alone, by status and date (migration 0043: without it, every idea was read).
        sa.Index("ix_idea_recent_answers", "status", "answered_at", "id", sqlite_where=sa.text(ANSWERED),
                 postgresql_where=sa.text(ANSWERED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    category_id: int | None = Field(default=None, foreign_key="category.id", ondelete="SET NULL")
    district_id: int | None = Field(default=None, foreign_key="district.id", ondelete="SET NULL")

    title: str = Field(sa_type=sa.String(120))
    body_md: str = Field(default="", sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)  # sanitised at write (app.richtext)
    # The plain text a card shows (at most CARD_EXCERPT characters), kept equal to
    # card_excerpt(body_html) by the hooks below when the idea is written, so that a list never
    # renders a body (issue 14: 24 cards rendered 24 bodies of Markdown on every request).
    excerpt: str = Field(default="", sa_type=sa.String(200))
    # The language the author wrote in (declared on the form, else detected: app.contentlang), or None.
    language: str | None = Field(default=None, sa_type=sa.String(2))
    status: str = Field(default=IdeaStatus.draft, sa_type=sa.String(20), index=True)

    # Moderation: a hidden idea is out of public view whatever its status.
    hidden_at: datetime | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="SET NULL")

    # Official answer
    answer_status: str | None = Field(default=None, sa_type=sa.String(20))
    answer_html: str = Field(default="", sa_type=sa.Text)
    answered_at: datetime | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # The answer in other languages (app.contentlang, kind "answer"): the language it was written
    # in, and {language: {"answer_md": {"text", "html", "source", "saved_at"}}}.
    answer_language: str = Field(default="fr", sa_type=sa.String(2), sa_column_kwargs={"server_default": "fr"})
    answer_translations: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)

    # Selection
    shortlisted: bool = False
    winner: bool = False
    jury_note: str = Field(default="", sa_type=sa.Text)

    # Counters kept equal to their rows by SQL updates in the same transaction (never COUNT on read).
    vote_count: int = 0
    comment_count: int = 0
    follower_count: int = 0
    report_count: int = 0
    # Kept by database triggers (migration 0041, app.moderation.dialogue), never by the
    # application: shown comments (neither deleted nor hidden) by citizens and by staff (role
    # now), the earliest audit entry "answer", and the days from publication to the first answer.
    citizen_comments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    staff_comments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    first_answer_at: datetime | None = None
    answer_days: float | None = None

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    published_at: datetime | None = None

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES and self.hidden_at is None


class IdeaPhoto(SQLModel, table=True):
    __tablename__ = "idea_photo"

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    media_id: int = Field(foreign_key="media_file.id", index=True, ondelete="CASCADE")
    alt_text: str = Field(default="", sa_type=sa.String(300))
    position: int = 0


class IdeaStatusChange(SQLModel, table=True):
    """The public history of an idea: who changed its status, when, and why."""

    __tablename__ = "idea_status_change"

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    from_status: str | None = Field(default=None, sa_type=sa.String(20))
    to_status: str = Field(sa_type=sa.String(20))
    # A public reason (rejection reason, requested changes, answer status...). Plain text.
    note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class IdeaVersion(SQLModel, table=True):
    """One edit of an idea's wording once others could see it (after its draft): what it said
    before and after, who changed it, when. Drafts are never versioned: nobody else saw them.

    `status` is the idea's status when it was edited: an edit of a published idea belongs to
    its public history; one made while the idea waited for moderators (or for the author's
    requested changes) is shown to moderators only. Rows are kept as written (app.idea.versions)."""

    __tablename__ = "idea_version"
    __table_args__ = (sa.Index("ix_idea_version_idea_created", "idea_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE")
    # Who edited: the author, or a moderator (`by_moderation`). None once that account is deleted.
    editor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    by_moderation: bool = False
    status: str = Field(sa_type=sa.String(20))

    title_before: str = Field(sa_type=sa.String(120))
    title_after: str = Field(sa_type=sa.String(120))
    body_md_before: str = Field(default="", sa_type=sa.Text)
    body_md_after: str = Field(default="", sa_type=sa.Text)
    body_html_before: str = Field(default="", sa_type=sa.Text)  # sanitised at write (app.richtext)
    body_html_after: str = Field(default="", sa_type=sa.Text)
    category_before_id: int | None = Field(default=None, foreign_key="category.id", ondelete="SET NULL")
    category_after_id: int | None = Field(default=None, foreign_key="category.id", ondelete="SET NULL")
    district_before_id: int | None = Field(default=None, foreign_key="district.id", ondelete="SET NULL")
    district_after_id: int | None = Field(default=None, foreign_key="district.id", ondelete="SET NULL")

    created_at: datetime = Field(default_factory=utcnow)
    # When its supporters and followers were told (app.notify.service.tell_edits): at once for
    # a public idea; for an edit a moderator held back, once the idea is public again.
    told_at: datetime | None = None


CARD_EXCERPT = 180  # characters of a card's excerpt, "…" included


def card_excerpt(body_html: str | None) -> str:
    """The text of a card: the body's plain text cut at a word to CARD_EXCERPT characters."""
    return html_excerpt(body_html, CARD_EXCERPT)


# Whichever code writes an idea (the form, an edit, an idea entered from paper, an import, the
# demo, the tests' factories), its excerpt follows its body. Migration 0029 filled it for the
# ideas written before.
@sa.event.listens_for(Idea, "before_insert")
def _excerpt_on_insert(_mapper: Any, _connection: Any, idea: Idea) -> None:
    idea.excerpt = card_excerpt(idea.body_html)


@sa.event.listens_for(Idea, "before_update")
def _excerpt_on_update(_mapper: Any, _connection: Any, idea: Idea) -> None:
    if sa.inspect(idea).attrs.body_html.history.has_changes():
        idea.excerpt = card_excerpt(idea.body_html)


class CallFiguresTally(SQLModel, table=True):
    """A share of one call's public figures (app.idea.queries.call_figures): its public ideas
    (app.idea.queries.public_condition), the sum of their `vote_count` and those with an official
    answer. A call's figures are the sums over its rows; an idea's writes go to the row of its id
    modulo 256 (migration 0044, SHARDS: 0042's, for the lock order it explains), so that writers
    of different ideas do not wait for one row. Kept by triggers of migration 0044 on `idea`,
    never written by the application. No foreign key to `call`: a call's deletion deletes its
    ideas, whose triggers still write its rows (left at zero)."""

    __tablename__ = "call_figures_tally"

    call_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    shard: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ideas: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    supports: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
