"""Bulk import of ideas from a spreadsheet (CSV or XLSX) for a call.

Upload -> `preview`: every row read, checked as an idea entered on a resident's behalf
(app.intake.service) and reported as "will be created" or "refused, because...". Nothing is
written then; the file is kept in the imports storage (app.media.storage), named by its SHA-256, until the
moderator confirms. `confirm` reads that file again and checks every row again against the
database as it is now; it creates the rows the moderator saw, all of them or none.

Importing the same file twice creates nothing the second time: each row's fingerprint (a
SHA-256 of its normalised content) is stored on its intake row, unique per call, and a row
whose fingerprint is already there is refused as "already imported". Cell contents are text:
an XLSX formula is read as its formula text (`=SUM(A1:A3)`), never evaluated, and shown and
stored escaped like any other text.

The first row names the columns (English or French, any case): title/titre (required),
idea/idée/description/body, theme/thème, district/quartier, channel/canal, name/nom,
email/e-mail/courriel, address/adresse. An empty channel is "paper"; an empty name is anonymous.
"""

import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from app import audit
from app.account.models import User
from app.audit import AuditAction, TargetType
from app.call import service as call_service
from app.call.models import Call
from app.errors import ValidationFailed
from app.i18n import N_
from app.idea import service as idea_service
from app.intake import service
from app.intake.models import Channel, IdeaIntake
from app.media.storage import IMPORTS, storage
from app.settings import Settings

MAX_FILE_BYTES = 2 * 1024 * 1024
# What a workbook may unpack to: a 2 MB file of repeated text would otherwise inflate a
# thousandfold in memory (a "zip bomb"); a real sheet of 1,000 ideas is a few megabytes.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
KEEP = timedelta(days=1)  # a previewed file not confirmed within a day is forgotten (the worker)
MAX_ROWS = 1000
MAX_COLUMNS = 30
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")

NOT_A_SHEET = N_("This file is not a spreadsheet we can read. Please send a CSV file or an Excel workbook (.xlsx).")
TOO_BIG = N_("This file is too large: 2 MB at most.")
EMPTY = N_("This file has no idea to import: the first row names the columns, the ideas follow.")
NO_TITLE = N_("The first row must name the columns, with a “title” column at least.")
TOO_MANY = N_("This file has too many rows: 1,000 ideas at most per import.")

# Column names accepted in the header row (compared without accents, case or spaces) -> field.
COLUMNS = {
    "title": "title", "titre": "title", "titel": "title",
    "idea": "body", "idee": "body", "description": "body", "body": "body", "texte": "body", "text": "body",
    "theme": "theme", "category": "theme", "thema": "theme",
    "district": "district", "quartier": "district", "wijk": "district",
    "channel": "channel", "canal": "channel", "kanaal": "channel",
    "name": "name", "nom": "name", "naam": "name",
    "email": "email", "e-mail": "email", "courriel": "email", "mail": "email",
    "address": "address", "adresse": "address", "postaladdress": "address", "adres": "address",
    # German and Dutch names besides those shared above.
    "beschreibung": "body", "beschrijving": "body", "omschrijving": "body", "bezirk": "district",
    "viertel": "district", "kanal": "channel",
}
TITLE_NAMES = frozenset(name for name, field in COLUMNS.items() if field == "title")
# The column names shown on the import page, in the reader's language (each is in `COLUMNS`).
HEADER_NAMES = {
    "en": {"title": "title", "body": "idea", "theme": "theme", "district": "district", "channel": "channel",
           "name": "name", "email": "email", "address": "address"},
    "fr": {"title": "titre", "body": "idée", "theme": "thème", "district": "quartier", "channel": "canal",
           "name": "nom", "email": "courriel", "address": "adresse"},
    "nl": {"title": "titel", "body": "idee", "theme": "thema", "district": "wijk", "channel": "kanaal",
           "name": "naam", "email": "e-mail", "address": "adres"},
    "de": {"title": "titel", "body": "beschreibung", "theme": "thema", "district": "bezirk", "channel": "kanal",
           "name": "name", "email": "e-mail", "address": "adresse"},
}
# Channel cells accepted (compared as column names are) -> channel.
CHANNELS = {
    "": Channel.paper, "paper": Channel.paper, "papier": Channel.paper,
    "email": Channel.email, "e-mail": Channel.email, "courriel": Channel.email, "mail": Channel.email,
    "phone": Channel.phone, "telephone": Channel.phone, "tel": Channel.phone, "telefoon": Channel.phone,
    "counter": Channel.counter, "guichet": Channel.counter, "loket": Channel.counter,
    "event": Channel.event, "evenement": Channel.event,
    "telefon": Channel.phone, "schalter": Channel.counter, "veranstaltung": Channel.event,
}

ALREADY_IMPORTED = N_("Already imported: this idea was created by an earlier import of the same row.")
DUPLICATE = N_("Same idea as row {row} of this file.")
UNKNOWN_THEME = N_("Unknown theme: this call has no theme with this name.")
UNKNOWN_DISTRICT = N_("Unknown district: no district has this name.")
UNKNOWN_CHANNEL = N_("Unknown channel: write paper, e-mail, phone, counter or event.")


def _key(text: str) -> str:
    """A column name or a choice, compared without accents, case or spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_]+", "", plain.casefold())


@dataclass
class Refusal:
    """Why a row is refused: an English msgid and its parameters (translated when shown)."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowReport:
    """One row of the sheet as the preview shows it. `number` is its row in the spreadsheet
    (the header is row 1); `refusals` is empty when the row will be created."""

    number: int
    cells: dict[str, str]
    refusals: list[Refusal] = field(default_factory=list)
    data: idea_service.IdeaInput | None = None
    intake: service.IntakeInput | None = None
    fingerprint: str = ""
    theme_name: str = ""
    district_name: str = ""
    channel: Channel | None = None  # None when the cell names no known channel (the row is refused)

    @property
    def ok(self) -> bool:
        return not self.refusals


@dataclass
class Preview:
    """What an import will do: `digest` names the kept file, `rows` every row read."""

    digest: str
    rows: list[RowReport]

    @property
    def creatable(self) -> list[RowReport]:
        return [row for row in self.rows if row.ok]

    @property
    def refused(self) -> list[RowReport]:
        return [row for row in self.rows if not row.ok]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message})


def _cell(value: Any) -> str:
    """A cell as text: numbers without a useless ".0", dates in ISO form, formulas as written."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value).replace("\x00", "")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    import openpyxl  # the spreadsheet library is needed only here  # noqa: PLC0415

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        workbook.close()
    except Exception as exc:  # a damaged or foreign file: openpyxl raises many kinds  # noqa: BLE001
        raise _refuse(NOT_A_SHEET) from exc
    return rows


def _csv_text(data: bytes) -> str:
    """The text of a CSV file: UTF-16 when it starts with its byte order mark ("Unicode text"
    as Excel saves it, tab-separated), else UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _refuse(NOT_A_SHEET) from exc
    if b"\x00" in data:
        raise _refuse(NOT_A_SHEET)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")  # a sheet saved as CSV by an older Excel
        except UnicodeDecodeError as exc:
            raise _refuse(NOT_A_SHEET) from exc


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _csv_text(data)
    if "\x00" in text:
        raise _refuse(NOT_A_SHEET)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    if first.count(delimiter) == 0 and _key(first) not in TITLE_NAMES:
        raise _refuse(NOT_A_SHEET)
    rows: list[list[str]] = []
    try:
        # The csv module refuses a cell over 128 KB by default: the file's size bounds it here, and
        # a long cell is refused with its row's own reason (too long a text), not the whole file.
        csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
        for values in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append([v.replace("\x00", "") for v in values[:MAX_COLUMNS]])
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as exc:
        raise _refuse(NOT_A_SHEET) from exc
    return rows


def read_sheet(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file as {field: text} (fields of `COLUMNS`), the header row
    excluded, with `_row` set to each row's number in the sheet; blank rows skipped.

    Raises ValidationFailed({"file": msgid}): not a spreadsheet, over `MAX_FILE_BYTES` (or a
    workbook unpacking to more than `MAX_UNPACKED_BYTES`), no
    "title" column, no data row, more than `MAX_ROWS` rows."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(TOO_BIG)
    if not data.strip():
        raise _refuse(EMPTY)
    if data.startswith(b"PK\x03\x04"):
        try:
            unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
        except (zipfile.BadZipFile, ValueError) as exc:
            raise _refuse(NOT_A_SHEET) from exc
        if unpacked > MAX_UNPACKED_BYTES:
            raise _refuse(TOO_BIG)
        rows = _xlsx_rows(data)
    else:
        rows = _csv_rows(data)
    if not rows:
        raise _refuse(EMPTY)
    header = [COLUMNS.get(_key(name)) for name in rows[0]]
    if "title" not in header:
        raise _refuse(NO_TITLE)
    records: list[dict[str, str]] = []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        record = {"_row": str(number)}
        for name, value in zip(header, values, strict=False):
            if name is not None and name not in record:
                record[name] = value.strip()
        records.append(record)
    if not records:
        raise _refuse(EMPTY)
    if len(records) > MAX_ROWS:
        raise _refuse(TOO_MANY)
    return records


def fingerprint(cells: dict[str, str]) -> str:
    """A row's identity within its call: the SHA-256 (hex) of its fields, spaces and case
    normalised, so that the same row imported again is recognised."""
    canonical = [" ".join(cells.get(name, "").split()).casefold()
                 for name in ("title", "body", "theme", "district", "channel", "name", "email", "address")]
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


def check_rows(session: Session, call: Call, records: list[dict[str, str]]) -> list[RowReport]:
    """Each record checked as `service.enter_idea` will check it, plus: theme and district
    named as the call knows them, a known channel, the same row twice in the file, a row
    imported before (its fingerprint already stored for this call)."""
    assert call.id is not None
    themes = {_key(c.name): c for c in call_service.categories_of(session, call.id)}
    districts = {_key(d.name): d for d in call_service.all_districts(session)}
    prints = [fingerprint(r) for r in records]
    known = set(session.exec(select(IdeaIntake.fingerprint).where(
        IdeaIntake.call_id == call.id, col(IdeaIntake.fingerprint).in_(prints))).all())
    seen: dict[str, int] = {}
    reports: list[RowReport] = []
    for record, print_ in zip(records, prints, strict=True):
        number = int(record["_row"])
        report = RowReport(number=number, cells=record, fingerprint=print_)
        theme = themes.get(_key(record.get("theme", ""))) if record.get("theme") else None
        district = districts.get(_key(record.get("district", ""))) if record.get("district") else None
        if record.get("theme") and theme is None:
            report.refusals.append(Refusal(UNKNOWN_THEME))
        if record.get("district") and district is None:
            report.refusals.append(Refusal(UNKNOWN_DISTRICT))
        channel = CHANNELS.get(_key(record.get("channel", "")))
        if channel is None:
            report.refusals.append(Refusal(UNKNOWN_CHANNEL))
        data = idea_service.IdeaInput(title=record.get("title", ""), body_md=record.get("body", ""),
                                      category_id=theme.id if theme else None,
                                      district_id=district.id if district else None)
        intake = service.IntakeInput(channel=channel or Channel.paper, display_name=record.get("name", ""),
                                     anonymous=not record.get("name", "").strip(),
                                     contact_email=record.get("email", ""), postal_address=record.get("address", ""))
        errors = idea_service.validate_input(session, call, data)
        errors.update(service.validate_intake(intake))
        if record.get("theme") and theme is None:
            errors.pop("category_id", None)  # said above, with the name
        report.refusals += [Refusal(message) for message in errors.values()]
        if print_ in known:
            report.refusals.insert(0, Refusal(ALREADY_IMPORTED))
        elif print_ in seen:
            report.refusals.insert(0, Refusal(DUPLICATE, {"row": seen[print_]}))
        else:
            seen[print_] = number
        report.data, report.intake = data, intake
        report.channel = channel
        report.theme_name = theme.name if theme else ""
        report.district_name = district.name if district else ""
        reports.append(report)
    return reports


def _name(digest: str) -> str:
    return f"{digest}.sheet"


def keep(settings: Settings, data: bytes) -> str:
    """Keep an uploaded file until its import is confirmed, in the storage every instance
    shares (app.media.storage: the confirmation may reach another machine than the preview);
    returns its SHA-256 (hex), its name. Raises StorageError when the storage takes no file."""
    digest = hashlib.sha256(data).hexdigest()
    storage(settings, IMPORTS).put(_name(digest), data)
    return digest


def kept(settings: Settings, digest: str) -> bytes | None:
    """The kept file named `digest`, or None (a malformed name, or already imported)."""
    if not DIGEST_RE.match(digest):
        return None
    return storage(settings, IMPORTS).get(_name(digest))


def forget(settings: Settings, digest: str) -> None:
    """Remove a kept file (after its import is committed)."""
    if DIGEST_RE.match(digest):
        storage(settings, IMPORTS).delete(_name(digest))


def prune_kept(settings: Settings, older_than: timedelta = KEEP) -> int:
    """Remove kept files older than `older_than` (previews never confirmed); returns how many.
    Called hourly by the worker."""
    store = storage(settings, IMPORTS)
    removed = 0
    for name in list(store.stale(older_than.total_seconds())):
        store.delete(name)
        removed += 1
    return removed


def preview(session: Session, settings: Settings, call: Call, data: bytes) -> Preview:
    """Read and check an uploaded file, keep it for the confirmation, and say what an import
    would do. Raises ValidationFailed({"file": msgid}) for a file that cannot be imported
    (see `read_sheet`), or ({"form": ...}) when the call no longer receives ideas. Writes
    nothing to the database."""
    service.check_open(call)
    reports = check_rows(session, call, read_sheet(data))
    return Preview(digest=keep(settings, data), rows=reports)


def confirm(session: Session, settings: Settings, call: Call, staff: User, *, digest: str, data: bytes) -> Preview:
    """Create the ideas of every row of the kept file `digest` that passes its checks now
    (re-run against the database as it is), on residents' behalf, each as `service.enter_idea`
    does; one audit entry for the file. Returns the report of what was done. Raises
    ValidationFailed as `preview`. The caller commits (all rows or none)."""
    service.check_open(call)
    reports = check_rows(session, call, read_sheet(data))
    done = Preview(digest=digest, rows=reports)
    for row in done.creatable:
        assert row.data is not None and row.intake is not None
        service.enter_idea(session, settings, call, staff, data=row.data, intake=row.intake,
                           fingerprint=row.fingerprint, audit_entry=False)
    assert call.id is not None
    audit.record(session, actor=staff, action=AuditAction.intake_import, target_type=TargetType.call,
                 target_id=call.id, details={"created": len(done.creatable), "refused": len(done.refused),
                                             "file_sha256": digest})
    return done
