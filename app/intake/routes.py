"""Ideas from paper, e-mail and phone: staff pages to enter one on a resident's behalf, see,
export and erase its private data and scan, import many from a spreadsheet (preview, then
confirm); and the public printable paper form of a call."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.datastructures import UploadFile as ReceivedFile

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.call import service as call_service
from app.call.models import Call
from app.call.phases import accepts_ideas
from app.call.queries import visible_call_by_slug
from app.deps import AppSettings, CurrentUser, DbSession, ModeratorUser
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, current_language
from app.idea import service as idea_service
from app.idea.models import Idea
from app.intake import privacy, service, sheets
from app.intake.models import CHANNEL_LABELS, Channel, IdeaIntake
from app.media import service as media_service
from app.media.storage import PRIVATE_MEDIA
from app.moderation.admin_service import assigned_ids
from app.params import parse_id
from app.submission import service as submission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render

router = APIRouter(prefix="/moderation", tags=["intake"], include_in_schema=False)
public_router = APIRouter(tags=["intake"], include_in_schema=False)

TextField = Annotated[str, Form(max_length=2_000)]
BodyField = Annotated[str, Form(max_length=100_000)]
Upload = Annotated[UploadFile | str | None, File()]
SCAN_VARIANTS = ("display", "thumb")
CHANGED = N_("The rows to import changed since the preview (another import, a theme renamed...). "
             "Check the new preview, then confirm again.")


def _call(session: Session, user: User, call_id: int) -> Call:
    """The call `user` enters ideas for: NotFound, or Forbidden when other moderators are
    assigned to it."""
    call = call_service.get_call(session, call_id)
    authz.require(user, Action.intake_enter, authz.Moderated(call, assigned_ids(session, call_id)))
    return call


def _intake(session: Session, user: User, intake_id: int) -> IdeaIntake:
    """The intake `intake_id` when `user` moderates its call: NotFound, or Forbidden when other
    moderators are assigned to the call (its resident's contact, scan, export and erasure)."""
    authz.require(user, Action.intake_view)
    intake = session.get(IdeaIntake, intake_id)
    call = session.get(Call, intake.call_id) if intake is not None else None
    if intake is None or call is None:
        raise NotFound()
    authz.require(user, Action.intake_view, authz.Moderated(call, assigned_ids(session, call.id or 0)))
    return intake


def _read(upload: UploadFile | str | None, limit: int) -> bytes | None:
    """The bytes of a chosen file (one more than `limit` at most), or None when none was chosen."""
    if not isinstance(upload, ReceivedFile) or not upload.filename:
        return None
    upload.file.seek(0)
    return upload.file.read(limit + 1)


def _form_context(session: Session, call: Call, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    assert call.id is not None
    categories = call_service.categories_of(session, call.id)
    return {
        "call": call, "values": values, "errors": errors, "categories": categories,
        "category_choices": [(c.id, c.name) for c in categories],
        "district_choices": [(d.id, d.name) for d in call_service.all_districts(session)],
        "channel_choices": [(c.value, CHANNEL_LABELS[c]) for c in Channel],
        "counts": service.channel_counts(session, call.id), "channel_labels": CHANNEL_LABELS,
        "recent": service.recent_intakes(session, call.id, limit=10),
        "closed": None if service.takes_intake(call) else service.CLOSED,
    }


@router.get("/calls/{call_id}/intake", name="intake:new")
def new_form(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    """The form to enter an idea received off the platform, with the call's figures per channel."""
    call = _call(session, user, call_id)
    return render(request, "intake/form.html", _form_context(session, call, {"channel": "paper"}, {}))


@router.post("/calls/{call_id}/intake", name="intake:create")
def create(
    request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, call_id: int,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    channel: TextField = "", display_name: TextField = "", anonymous: TextField = "",
    contact_email: TextField = "", postal_address: TextField = "", scan: Upload = None,
    form_token: FormToken = "",
) -> Response:
    call = _call(session, user, call_id)
    values = {"title": title, "body_md": body_md, "category_id": category_id, "district_id": district_id,
              "channel": channel, "display_name": display_name, "anonymous": anonymous,
              "contact_email": contact_email, "postal_address": postal_address}
    scan_data = _read(scan, settings.max_upload_bytes)
    sent = submission.claim(session, token=form_token, form="intake:new", user_id=user.id,
                            content=[call.id, *values.values(), scan_data])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    data = idea_service.IdeaInput(title=title, body_md=body_md, category_id=parse_id(category_id),
                                  district_id=parse_id(district_id))
    intake = service.IntakeInput(channel=channel, display_name=display_name, anonymous=anonymous == "yes",
                                 contact_email=contact_email, postal_address=postal_address)
    try:
        idea = service.enter_idea(session, settings, call, user, data=data, intake=intake, scan=scan_data)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "intake/form.html", _form_context(session, call, values, exc.errors),
                      status_code=422)
    assert idea.id is not None
    entered = service.intake_of(session, idea.id)
    assert entered is not None and entered.id is not None
    location = links.path("intake:detail", intake_id=entered.id)
    message = N_("The idea is entered and waits for moderation.") if call.premoderation \
        else N_("The idea is entered and published.")
    submission.settle(session, sent, location=location, message=message, object_id=entered.id)
    session.commit()
    return flash(request, redirect(location), message, "success")


@router.get("/intakes/{intake_id}", name="intake:detail")
def detail(request: Request, session: DbSession, user: ModeratorUser, intake_id: int) -> HTMLResponse:
    """An intake as staff see it: the idea, how it came in, the resident's name and contact, the
    scan; with the export and erasure of the resident's data."""
    intake = _intake(session, user, intake_id)
    idea = session.get(Idea, intake.idea_id)
    call = session.get(Call, intake.call_id)
    if idea is None or call is None:
        raise NotFound()
    entered_by = session.get(User, intake.entered_by_id) if intake.entered_by_id else None
    return render(request, "intake/detail.html", {
        "intake": intake, "idea": idea, "call": call, "entered_by": entered_by,
        "scan": service.scan_of(session, intake), "channel_labels": CHANNEL_LABELS,
    })


@router.get("/intakes/{intake_id}/scan/{variant}", name="intake:scan")
def scan_file(session: DbSession, settings: AppSettings, user: ModeratorUser, intake_id: int,
              variant: str) -> Response:
    """The scan of a paper form: staff only, never cached, from the private media folder."""
    if variant not in SCAN_VARIANTS:
        raise NotFound()
    intake = _intake(session, user, intake_id)
    media = service.scan_of(session, intake)
    if media is None:
        raise NotFound()
    return media_service.file_response(settings, media, variant, public=False, area=PRIVATE_MEDIA)


@router.get("/intakes/{intake_id}/export", name="intake:export")
def export(session: DbSession, settings: AppSettings, user: ModeratorUser, intake_id: int) -> Response:
    """The resident's data of an intake as a JSON file, to hand to them on request."""
    intake = _intake(session, user, intake_id)
    data = privacy.export_intake(session, intake, base_url=settings.absolute_url(""))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="intake-{intake_id}.json"',
        "Cache-Control": "private, no-store"})


@router.post("/intakes/{intake_id}/erase", name="intake:erase")
def erase(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, intake_id: int,
          confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Erase the resident's personal data from an intake (app.intake.privacy): the idea stays,
    anonymous. Needs the confirmation box ticked."""
    intake = _intake(session, user, intake_id)
    location = links.path("intake:detail", intake_id=intake_id)
    if confirm != "yes":
        return flash(request, redirect(location), N_("Tick the box to confirm the erasure."), "error")
    privacy.erase_intake(session, settings, intake, actor=user)
    session.commit()
    return flash(request, redirect(location), N_("The resident's personal data is erased."), "success")


# --- Bulk import ------------------------------------------------------------------------------

def _import_context(session: Session, call: Call, errors: dict[str, str]) -> dict[str, Any]:
    assert call.id is not None
    return {"call": call, "errors": errors, "max_rows": sheets.MAX_ROWS,
            "themes": call_service.categories_of(session, call.id),
            "names": sheets.HEADER_NAMES.get(current_language(), sheets.HEADER_NAMES["en"]),
            "closed": None if service.takes_intake(call) else service.CLOSED}


@router.get("/calls/{call_id}/import", name="intake:import_form")
def import_form(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    """Upload a spreadsheet of ideas collected off the platform; what its columns must be."""
    call = _call(session, user, call_id)
    return render(request, "intake/import.html", _import_context(session, call, {}))


@router.post("/calls/{call_id}/import", name="intake:import_preview")
def import_preview(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser,
                   call_id: int, sheet: Upload = None) -> HTMLResponse:
    """Every row of the uploaded file, with what will be created and what is refused and why.
    Nothing is created: the file is kept for the confirmation."""
    call = _call(session, user, call_id)
    data = _read(sheet, sheets.MAX_FILE_BYTES)
    try:
        if data is None:
            raise ValidationFailed({"file": N_("Choose a file to import.")})
        preview = sheets.preview(session, settings, call, data)
    except ValidationFailed as exc:
        return render(request, "intake/import.html", _import_context(session, call, exc.errors), status_code=422)
    return _preview_page(request, call, preview)


def _preview_page(request: Request, call: Call, preview: sheets.Preview, *, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    return render(request, "intake/preview.html", {
        "call": call, "preview": preview, "channel_labels": CHANNEL_LABELS, "errors": errors or {},
    }, status_code=status_code)


@router.post("/calls/{call_id}/import/{digest}", name="intake:import_confirm")
def import_confirm(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser,
                   call_id: int, digest: str, expected: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Create the ideas of the previewed file, all or none. The rows are checked again; if what
    would be created is not what the preview showed (`expected` rows), the new preview is shown
    instead (422) and nothing is written."""
    call = _call(session, user, call_id)
    data = sheets.kept(settings, digest)
    if data is None:
        raise NotFound()
    try:
        check = sheets.check_rows(session, call, sheets.read_sheet(data))
        service.check_open(call)
        if str(len([r for r in check if r.ok])) != expected:
            session.rollback()
            return _preview_page(request, call, sheets.Preview(digest=digest, rows=check),
                                 errors={"form": CHANGED}, status_code=422)
        done = sheets.confirm(session, settings, call, user, digest=digest, data=data)
        session.commit()
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "intake/import.html", _import_context(session, call, exc.errors), status_code=422)
    except IntegrityError as exc:  # the same rows confirmed in parallel: the other import created them
        session.rollback()
        raise Conflict(CHANGED) from exc
    sheets.forget(settings, digest)
    return flash(request, redirect(links.path("intake:new", call_id=call_id)),
                 N_("Ideas created from the file: {count}. Rows refused: {refused}."), "success",
                 count=len(done.creatable), refused=len(done.refused))


# --- The paper form -----------------------------------------------------------------------------

@public_router.get("/calls/{slug}/paper-form", name="call:paper_form")
def paper_form(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
               slug: str) -> HTMLResponse:
    """A call's idea form to print (neighbourhood houses, counters): its rules, its themes and
    the districts as boxes to tick, lines to write the title and the idea, the resident's name
    and contact, and the privacy notice in short. Anyone who may see the call may print it."""
    call = visible_call_by_slug(session, slug, user)
    assert call.id is not None
    return render(request, "intake/paper_form.html", {
        "call": call, "categories": call_service.categories_of(session, call.id),
        "districts": call_service.all_districts(session),
        "call_url": settings.absolute_url(links.call_path(call.slug)),
        "accepts_ideas": accepts_ideas(call),
        "privacy_url": settings.absolute_url(links.path("page:privacy")),
    })
