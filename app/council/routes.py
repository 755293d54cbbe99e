"""Staff pages of the council's figures: the participation report of the platform and of each
call, its files (CSV, XLSX) and the council pack (ZIP). Moderators and administrators
(Action.council_report); nothing here writes."""

from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlmodel import Session, col, select

from app.account.export import chunks
from app.account.models import User
from app.authz import Action
from app.call import service as call_service
from app.call.models import Call
from app.clock import utcnow
from app.council import exports, figures
from app.council.charts import Chart, bar_chart
from app.deps import AppSettings, DbSession, allowed
from app.errors import NotFound
from app.i18n import LANGUAGE_NAMES, N_, _
from app.intake.models import CHANNEL_LABELS, Channel
from app.intake.service import ONLINE
from app.web import STATIC_DIR, env, render

router = APIRouter(prefix="/moderation/council", tags=["council"], include_in_schema=False)

CouncilReader = Annotated[User, allowed(Action.council_report)]
PRINT_CSS = Path(STATIC_DIR) / "css" / "council-print.css"


AGE_LABELS = {"under_18": N_("Under 18"), "18_24": N_("18 to 24"), "25_34": N_("25 to 34"), "35_49": N_("35 to 49"),
              "50_64": N_("50 to 64"), "65_plus": N_("65 and over")}


def _labels(report: figures.Participation) -> dict[str, list[str]]:
    """The translated label of each row of each breakdown, in the order of `report.by`."""
    verification = {"verified": _("Verified residents"), "not_verified": _("Not verified")}
    names = {
        "district": lambda s: s.label or _("No district"),
        "theme": lambda s: s.label or _("No theme"),
        "week": lambda s: s.label,
        "language": lambda s: LANGUAGE_NAMES.get(s.key, s.key or _("Unknown")),
        "written": lambda s: LANGUAGE_NAMES.get(s.key, s.key) if s.key else _("Not recorded"),
        "verification": lambda s: verification.get(s.key, s.key),
        "age": lambda s: _(AGE_LABELS[s.key]) if s.key else _("Not known"),
        "channel": lambda s: _("On the platform") if s.key == ONLINE else _(CHANNEL_LABELS[Channel(s.key)]),
    }
    return {name: [names[name](part) for part in parts] for name, parts in report.by.items()}


def _chart(name: str, parts: list[figures.Slice], labels: list[str]) -> Chart:
    """The chart of a breakdown: weeks all (a time axis has no gaps), others only the rows where
    something happened (the table under the chart lists every district and theme, zeros included)."""
    kept = [(part, label) for part, label in zip(parts, labels, strict=True)
            if name == "week" or part.participants or part.ideas or part.supports or part.comments]
    return bar_chart([part for part, _label in kept], [label for _part, label in kept])


def report_context(session: Session, call: Call | None) -> dict[str, Any]:
    """What the report page and the pack's printable page show: the figures, the charts, labels."""
    report = figures.participation(session, call)
    labels = _labels(report)
    return {
        "report": report, "labels": labels,
        "chart_of": {name: _chart(name, parts, labels[name]) for name, parts in report.by.items()},
        "licence": figures.LICENCE, "licence_url": figures.LICENCE_URL,
    }


@router.get("", name="council:platform")
def platform_report(request: Request, session: DbSession, _staff: CouncilReader) -> HTMLResponse:
    calls = session.exec(select(Call).order_by(col(Call.created_at).desc())).all()
    return render(request, "council/report.html", {**report_context(session, None), "calls": calls})


@router.get("/calls/{call_id}", name="council:call")
def call_report(request: Request, session: DbSession, _staff: CouncilReader, call_id: int) -> HTMLResponse:
    call = call_service.get_call(session, call_id)
    return render(request, "council/report.html", {
        **report_context(session, call), "calls": [], "files": sorted(exports.file_names())})


@router.get("/calls/{call_id}/file", name="council:file")
def call_file(session: DbSession, settings: AppSettings, _staff: CouncilReader, call_id: int,
              name: str = "") -> Response:
    """One file of the call (a name of app.council.exports.file_names); 404 for any other name."""
    call = call_service.get_call(session, call_id)
    if name not in exports.file_names():
        raise NotFound()
    media = "text/csv; charset=utf-8" if name.endswith(".csv") else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(exports.one_file(session, settings, call, name), media_type=media, headers={
        "content-disposition": f'attachment; filename="{call.slug}-{name}"', "cache-control": "no-store",
        "x-content-type-options": "nosniff", "link": f'<{figures.LICENCE_URL}>; rel="license"'})


@router.get("/calls/{call_id}/pack.zip", name="council:pack")
def call_pack(session: DbSession, settings: AppSettings, _staff: CouncilReader, call_id: int) -> Response:
    """The council pack: built now in a temporary file, streamed, deleted; stored nowhere."""
    call = call_service.get_call(session, call_id)
    context = report_context(session, call)
    page = env.get_template("council/print.html").render(
        **context, settings=settings, print_css=PRINT_CSS.read_text(encoding="utf-8"))
    archive = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by chunks()
    exports.pack(session, settings, call, page, archive)
    archive.seek(0)
    filename = f"{call.slug}-council-{utcnow().date().isoformat()}.zip"
    return StreamingResponse(chunks(archive), media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"})
