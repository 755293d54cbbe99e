"""Files for the council, per call: ideas with their status history and official answers, supports
counted per idea, district and theme, and public comments; as CSV (one table a file) and XLSX (one
workbook per subject, a sheet per table and a licence sheet), and the council pack, a ZIP of all
of them with the report as a printable page.

What never leaves in a file: who supported what (no person appears in the support tables, only
counts), and people's names or e-mail addresses at all (ideas and comments carry no author;
a comment says only whether the city wrote it). Comments hidden by moderation or deleted by their
authors, and comments on ideas that are not public, are left out: these files travel outside the
platform, and a hidden comment was taken out of public view for a reason (insults, someone else's
personal data), which a file must not undo.

Formula injection: every text cell goes through `app.call.routes.csv_cell` (the public CSV's
rule: a leading =, +, -, @, tab or carriage return gets a quote), and in XLSX text cells are
written with data type "s", so no cell is ever a formula.
"""

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col

from app import links
from app.account.models import Role, User
from app.call.models import Call, Category, District
from app.call.routes import csv_cell
from app.comment.models import Comment
from app.council.figures import LICENCE, LICENCE_URL
from app.i18n import _
from app.idea import queries as idea_queries
from app.idea.models import ANSWER_LABELS, Idea, IdeaStatusChange
from app.intake.models import CHANNEL_LABELS, Channel, IdeaIntake
from app.richtext import plain_text
from app.settings import Settings
from app.vote.models import Vote


@dataclass
class Table:
    name: str  # its CSV file name without extension, and its sheet's title
    headers: list[str]
    rows: list[list[Any]]


def notice_text(call: Call, settings: Settings) -> str:
    """The notice written into every staff file (a sheet in XLSX, the README of the pack). These
    files are the city's internal documents, not open data: they hold ideas the public cannot see,
    moderators' notes to authors and moderators' names. The open data (public ideas only) is the
    API's, under LICENCE; the notice says where."""
    return _("Internal document of the city about the call “{title}” ({url}). It holds ideas the public cannot "
             "see (awaiting moderation, sent back, rejected, withdrawn or hidden), the moderators' notes to their "
             "authors and the moderators' names: do not publish it as it is. The public figures of the call are "
             "open data under the licence {licence} ({licence_url}): {open_data}").format(
        title=call.title, url=settings.absolute_url(links.call_path(call.slug)), licence=LICENCE,
        licence_url=LICENCE_URL, open_data=settings.absolute_url(links.path("api:call_figures", slug=call.slug)))


def _label(value: str | None, labels: Mapping[Any, str] = idea_queries.STATUS_LABELS) -> str:
    """`value` (an idea's status, a step of its history, or with `labels=ANSWER_LABELS` an official
    answer's kind) in the reader's language; a value without a label (a history step such as
    "hidden") as it is stored; "" for None."""
    # The keys are StrEnum members, equal to and hashed as their stored strings: no copy needed.
    label = labels.get(value) if value else None
    return _(label) if label else (value or "")


def _day(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else ""


def _support_counts(call_id: int) -> Any:
    return (sa.select(col(Vote.idea_id).label("idea_id"), func.count().label("n")).where(col(Vote.call_id) == call_id)
            .group_by(col(Vote.idea_id)).subquery())


def idea_tables(session: Session, settings: Settings, call: Call) -> list[Table]:
    """The ideas of `call` moderators may see (app.idea.queries.seen_by_moderators), with their
    official answer, and the public history of their statuses. Three statements."""
    assert call.id is not None
    supports = _support_counts(call.id)
    public_comments = (sa.select(col(Comment.idea_id).label("idea_id"), func.count().label("n"))
                       .where(col(Comment.deleted_at).is_(None), col(Comment.hidden_at).is_(None))
                       .group_by(col(Comment.idea_id)).subquery())
    rows = session.execute(
        sa.select(Idea, col(Category.name), col(District.name), func.coalesce(supports.c.n, 0),
                  func.coalesce(public_comments.c.n, 0), col(IdeaIntake.channel))
        .join(IdeaIntake, col(IdeaIntake.idea_id) == col(Idea.id), isouter=True)
        .join(Category, col(Category.id) == col(Idea.category_id), isouter=True)
        .join(District, col(District.id) == col(Idea.district_id), isouter=True)
        .join(supports, supports.c.idea_id == col(Idea.id), isouter=True)
        .join(public_comments, public_comments.c.idea_id == col(Idea.id), isouter=True)
        .where(col(Idea.call_id) == call.id, idea_queries.seen_by_moderators()).order_by(col(Idea.id))
    ).all()
    ideas = Table("ideas", [_("Idea"), _("Title"), _("Status"), _("Public"), _("Hidden by moderation"), _("Theme"),
                            _("District"), _("Submitted on"), _("Published on"), _("Supports"), _("Public comments"),
                            _("Official answer"), _("Answer text"), _("Answered on"), _("Address"),
                            _("Received")], [])
    for idea, theme, district, support_count, comment_count, channel in rows:
        received = _(CHANNEL_LABELS[Channel(channel)]) if channel else _("On the platform")
        ideas.rows.append([
            idea.id, idea.title, _label(idea.status), _("yes") if idea.is_public else _("no"),
            _("yes") if idea.hidden_at else _("no"), theme or "", district or "", _day(idea.submitted_at),
            _day(idea.published_at), int(support_count), int(comment_count), _label(idea.answer_status, ANSWER_LABELS),
            plain_text(idea.answer_html), _day(idea.answered_at), settings.absolute_url(links.idea_path(idea.id or 0)),
            received])
    changes = session.execute(
        sa.select(IdeaStatusChange, col(Idea.title)).join(Idea, col(Idea.id) == col(IdeaStatusChange.idea_id))
        .where(col(Idea.call_id) == call.id, idea_queries.seen_by_moderators())
        .order_by(col(IdeaStatusChange.idea_id), col(IdeaStatusChange.created_at), col(IdeaStatusChange.id))
    ).all()
    history = Table("history", [_("Idea"), _("Title"), _("Date"), _("From"), _("To"), _("Note")],
                    [[c.idea_id, title, _day(c.created_at), _label(c.from_status), _label(c.to_status), c.note]
                     for c, title in changes])
    return [ideas, history]


def support_tables(session: Session, call: Call) -> list[Table]:
    """Supports counted per idea, per district and per theme: numbers only, never who supported
    what. Three statements."""
    assert call.id is not None
    supports = _support_counts(call.id)
    base = (sa.select().select_from(Idea).join(supports, supports.c.idea_id == col(Idea.id), isouter=True)
            .where(col(Idea.call_id) == call.id, idea_queries.seen_by_moderators()))
    per_idea = session.execute(
        base.add_columns(col(Idea.id), col(Idea.title), func.coalesce(supports.c.n, 0)).order_by(col(Idea.id))).all()
    tables = [Table("supports-per-idea", [_("Idea"), _("Title"), _("Supports")],
                    [[i, t, int(n)] for i, t, n in per_idea])]
    groups: tuple[tuple[str, Any, Any, Any, str], ...] = (
        ("supports-per-district", col(District.id), col(District.name), col(Idea.district_id), _("District")),
        ("supports-per-theme", col(Category.id), col(Category.name), col(Idea.category_id), _("Theme")))
    for name, key_id, key_name, idea_key, header in groups:
        grouped = session.execute(
            base.add_columns(key_name, func.count(col(Idea.id)), func.coalesce(func.sum(supports.c.n), 0))
            .join(key_id.table, key_id == idea_key, isouter=True)
            .group_by(key_id, key_name).order_by(key_name)).all()
        tables.append(Table(name, [header, _("Ideas"), _("Supports")],
                            [[label or _("None"), int(ideas), int(n)] for label, ideas, n in grouped]))
    return tables


def comment_tables(session: Session, call: Call) -> list[Table]:
    """The public comments of the public ideas of `call` (see the module docstring), without their
    authors' names: only whether the city (a moderator or an administrator) wrote them. One statement."""
    assert call.id is not None
    by_city = col(User.role).in_((Role.moderator, Role.admin))
    rows = session.execute(
        sa.select(Comment, col(Idea.title), sa.case((by_city, True), else_=False))
        .join(Idea, col(Idea.id) == col(Comment.idea_id))
        .join(User, col(User.id) == col(Comment.author_id), isouter=True)
        .where(col(Idea.call_id) == call.id, idea_queries.public_condition(), col(Comment.deleted_at).is_(None),
               col(Comment.hidden_at).is_(None)).order_by(col(Comment.idea_id), col(Comment.id))
    ).all()
    return [Table("comments", [_("Comment"), _("Idea"), _("Title"), _("Date"), _("Reply to"), _("By the city"),
                               _("Text")],
                  [[c.id, c.idea_id, title, _day(c.created_at), c.parent_id or "", _("yes") if city else _("no"),
                    c.body_md] for c, title, city in rows])]


SUBJECTS = ("ideas", "supports", "comments")


def tables_of(session: Session, settings: Settings, call: Call, subject: str) -> list[Table]:
    """The tables of one subject ("ideas", "supports" or "comments")."""
    if subject == "ideas":
        return idea_tables(session, settings, call)
    if subject == "supports":
        return support_tables(session, call)
    return comment_tables(session, call)


def _cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text neutralised against formula injection (csv_cell)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else csv_cell(value)


def to_csv(table: Table) -> bytes:
    """One table as CSV, UTF-8 with a byte order mark (spreadsheets then read accents right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(h) for h in table.headers])
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(tables: list[Table], notice: str) -> bytes:
    """The tables as one workbook, a sheet each, and a "notice" sheet (`notice_text`). Text cells
    keep their text exactly and are typed "s" (written as strings): no cell is a formula, and a
    title starting with "=" reads as typed, without the apostrophe CSV needs."""
    from openpyxl import Workbook  # with numpy, 18 MB in every process that imported it: only here  # noqa: PLC0415

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in [*tables, Table("notice", [_("About these files")], [[notice]])]:
        sheet = book.create_sheet(table.name[:31])
        for r, values in enumerate([table.headers, *table.rows], start=1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = value if isinstance(value, int) and not isinstance(value, bool) else (
                    "" if value is None else str(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_names() -> dict[str, tuple[str, str]]:
    """Every file staff may download: name -> (subject, table name or "" for the workbook)."""
    names = {f"{subject}.xlsx": (subject, "") for subject in SUBJECTS}
    for subject, tables in (("ideas", ("ideas", "history")),
                            ("supports", ("supports-per-idea", "supports-per-district", "supports-per-theme")),
                            ("comments", ("comments",))):
        names.update({f"{table}.csv": (subject, table) for table in tables})
    return names


def one_file(session: Session, settings: Settings, call: Call, name: str) -> bytes:
    """The bytes of file `name` (a key of `file_names()`); KeyError for another name."""
    subject, table_name = file_names()[name]
    tables = tables_of(session, settings, call, subject)
    if not table_name:
        return to_xlsx(tables, notice_text(call, settings))
    return to_csv(next(t for t in tables if t.name == table_name))


def pack(session: Session, settings: Settings, call: Call, report_html: str,
         target: IO[bytes]) -> None:
    """Write the council pack of `call` into `target` (a temporary file the caller streams with
    app.account.export.chunks, which deletes it): report.html, README.txt with the notice, and
    every file of `file_names()`."""
    notice = notice_text(call, settings)
    readme = "\n\n".join([
        _("Council pack of the call “{title}”").format(title=call.title),
        _("report.html: the participation report, printable (open it in a browser, then print)."),
        _("*.xlsx: the spreadsheets, a sheet per table; *.csv: the same tables, one a file."),
        _("Supports are counted per idea, district and theme: who supported what is never in these files. Comments "
          "hidden by moderation or deleted by their authors are left out."),
        notice, ""])
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.html", report_html)
        archive.writestr("README.txt", readme)
        for subject in SUBJECTS:
            tables = tables_of(session, settings, call, subject)
            archive.writestr(f"{subject}.xlsx", to_xlsx(tables, notice))
            for table in tables:
                archive.writestr(f"{table.name}.csv", to_csv(table))
