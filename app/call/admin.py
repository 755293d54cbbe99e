"""Administration of calls (phases, rules, cover), their themes, and the city's districts."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile as ReceivedFile

from app import i18n, links
from app.account.models import User
from app.budget import rules as budget_rules
from app.budget import settings_form as budget_form
from app.call import queries, service
from app.call.models import PHASE_ORDER, Call
from app.call.phases import current_phase
from app.deps import AdminUser, AppSettings, DbSession
from app.errors import ValidationFailed
from app.i18n import CITY_TZ, N_
from app.media import service as media_service
from app.settings import Settings
from app.submission import service as submission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

Text = Annotated[str, Form(max_length=600)]
LongText = Annotated[str, Form(max_length=60_000)]
Flag = Annotated[str, Form(max_length=10)]
# The participatory budget's fields of the same form (app.budget.settings_form); None: not sent.
BudgetFields = Annotated[budget_rules.BudgetInput | None, Depends(budget_form.read_form)]


def parse_local(value: str) -> datetime | None:
    """A `datetime-local` value, read in the city's time zone."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(value) from exc
    return parsed.replace(tzinfo=CITY_TZ) if parsed.tzinfo is None else parsed


def to_local(value: datetime | None) -> str:
    return value.astimezone(CITY_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


def _as_int(value: str, default: int) -> int:
    # A whole number (ASCII digits, an optional minus, small enough for an integer column), or -1,
    # which every limit refuses with its own message: "²", "--5" or 2**31 are not 500s.
    text = value.strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) < 9:
        return int(text)
    return -1 if text else default


def _call_values(session: Session, call: Call | None) -> dict[str, Any]:
    budget_values = budget_form.values_of(session, call)
    if call is None:
        call = Call(slug="", title="")
    values: dict[str, Any] = {
        name: getattr(call, name) for name in (
            "slug", "title", "summary", "description_md", "ideas_per_citizen", "premoderation",
            "votes_per_citizen", "vote_scope", "voting_during_submissions", "comments_during_submissions",
            "comments_during_voting", "report_threshold", "submit_access", "vote_access", "original_language")
    }
    values["phase_override"] = call.phase_override or ""
    for name in service.PHASE_FIELDS:
        values[name] = to_local(getattr(call, name))
    return {**values, **budget_values}


def _form(request: Request, session: Session, call: Call | None, values: dict[str, Any],
          errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    categories = service.categories_of(session, call.id) if call and call.id else []
    return render(request, "call/admin_form.html", {
        "call": call, "values": values, "errors": errors, "categories": categories,
        "phase_labels": queries.PHASE_LABELS,
        "phase_choices": [(str(p), i18n.gettext(queries.PHASE_LABELS[p])) for p in PHASE_ORDER],
        "current": current_phase(call) if call else None,
        **budget_form.context(session, call),
    }, status_code=status_code)


@router.get("/calls", name="admin:calls")
def calls(request: Request, session: DbSession, _admin: AdminUser) -> HTMLResponse:
    rows = session.exec(select(Call).order_by(col(Call.created_at).desc())).all()
    return render(request, "call/admin_list.html", {"calls": [(c, current_phase(c)) for c in rows],
                                                    "phase_labels": queries.PHASE_LABELS})


@router.get("/calls/new", name="admin:call_new")
def new_call(request: Request, session: DbSession, _admin: AdminUser) -> HTMLResponse:
    return _form(request, session, None, _call_values(session, None), {})


def _save(request: Request, session: Session, settings: Settings, user: User, call: Call | None,
          fields: dict[str, str], cover: UploadFile | str | None, remove_cover: bool,
          budget: budget_rules.BudgetInput | None, sent: submission.Claim | None = None) -> Response:
    """Create or update the call from its editor's form, with its participatory budget's
    settings (`budget`; None: not sent, kept as they are) in the same transaction: every
    field's error reported at once, nothing written unless all is valid."""
    values: dict[str, Any] = dict(fields)
    values.update(budget_form.typed_values(budget) if budget is not None else budget_form.values_of(session, call))
    errors: dict[str, str] = {}
    dates: dict[str, datetime | None] = {}
    for name in service.PHASE_FIELDS:
        try:
            dates[name] = parse_local(fields[name])
        except ValueError:
            dates[name] = None
            errors[name] = N_("Enter a date and time.")
    for flag in ("premoderation", "voting_during_submissions", "comments_during_submissions",
                 "comments_during_voting"):
        values[flag] = fields[flag] == "1"
    data = service.CallInput(
        slug=fields["slug"], title=fields["title"], summary=fields["summary"],
        description_md=fields["description_md"], phase_override=fields["phase_override"],
        ideas_per_citizen=_as_int(fields["ideas_per_citizen"], 5), premoderation=values["premoderation"],
        votes_per_citizen=_as_int(fields["votes_per_citizen"], 10), vote_scope=fields["vote_scope"],
        voting_during_submissions=values["voting_during_submissions"],
        comments_during_submissions=values["comments_during_submissions"],
        comments_during_voting=values["comments_during_voting"],
        report_threshold=_as_int(fields["report_threshold"], 3), submit_access=fields["submit_access"],
        vote_access=fields["vote_access"], original_language=fields["original_language"],
        voting_mode=budget.voting_mode if budget is not None else call.voting_mode if call else "supports", **dates,
    )
    try:
        cover_id = None
        if isinstance(cover, ReceivedFile) and cover.filename:
            raw = cover.file.read(settings.max_upload_bytes + 1)
            if raw:
                try:
                    media = media_service.store_image(session, settings, data=raw,
                                                      owner_id=user.id, field="cover")
                    cover_id = media.id
                except ValidationFailed as exc:
                    errors["cover"] = next(iter(exc.errors.values()))
        if budget is not None:
            errors.update(budget_rules.budget_errors(session, call, budget))
        if errors:  # report every problem at once, not only the dates, the cover or the budget
            raise ValidationFailed({**service.validate_call(session, data, call.id if call else None), **errors})
        if call is None:
            call = service.create_call(session, data=data, cover_id=cover_id)
        else:
            service.update_call(session, call, data=data, cover_id=cover_id, remove_cover=remove_cover)
        if budget is not None:
            budget_rules.save_budget(session, actor=user, call=call, data=budget)
    except ValidationFailed as exc:
        session.rollback()
        fresh = session.get(Call, call.id) if call is not None else None
        return _form(request, session, fresh, values, {**errors, **exc.errors}, status_code=422)
    location, message = links.path("admin:call_edit", call_id=call.id), N_("The call is saved.")
    submission.settle(session, sent or submission.Claim(), location=location, message=message)
    session.commit()
    return flash(request, redirect(location), message, "success")


@router.post("/calls/new", name="admin:call_create")
def create_call(
    request: Request, session: DbSession, settings: AppSettings, user: AdminUser,
    slug: Text = "", title: Text = "", summary: Text = "", description_md: LongText = "",
    submissions_start: Text = "", technical_review_start: Text = "", voting_start: Text = "", review_start: Text = "",
    results_start: Text = "", closes_at: Text = "", phase_override: Text = "", ideas_per_citizen: Text = "5",
    premoderation: Flag = "", votes_per_citizen: Text = "10", vote_scope: Text = "call",
    voting_during_submissions: Flag = "", comments_during_submissions: Flag = "", comments_during_voting: Flag = "",
    report_threshold: Text = "3", submit_access: Text = "email", vote_access: Text = "email",
    original_language: Text = "fr",
    cover: Annotated[UploadFile | str | None, File()] = None,
    form_token: FormToken = "", budget: BudgetFields = None,
) -> Response:
    fields = {k: v for k, v in locals().items() if isinstance(v, str) and k != "form_token"}
    # Sent twice, one call (the second would be refused for its address, already taken).
    sent = submission.claim(session, token=form_token, form="admin:call_new", user_id=user.id,
                            content=sorted(fields.items()))
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    return _save(request, session, settings, user, None, fields, cover, False, budget, sent)


@router.get("/calls/{call_id}", name="admin:call_edit")
def edit_call_form(request: Request, session: DbSession, _admin: AdminUser, call_id: int) -> HTMLResponse:
    call = service.get_call(session, call_id)
    return _form(request, session, call, _call_values(session, call), {})


@router.post("/calls/{call_id}", name="admin:call_update")
def edit_call(
    request: Request, session: DbSession, settings: AppSettings, user: AdminUser, call_id: int,
    slug: Text = "", title: Text = "", summary: Text = "", description_md: LongText = "",
    submissions_start: Text = "", technical_review_start: Text = "", voting_start: Text = "", review_start: Text = "",
    results_start: Text = "", closes_at: Text = "", phase_override: Text = "", ideas_per_citizen: Text = "5",
    premoderation: Flag = "", votes_per_citizen: Text = "10", vote_scope: Text = "call",
    voting_during_submissions: Flag = "", comments_during_submissions: Flag = "", comments_during_voting: Flag = "",
    report_threshold: Text = "3", submit_access: Text = "email", vote_access: Text = "email",
    original_language: Text = "fr",
    remove_cover: Flag = "", cover: Annotated[UploadFile | str | None, File()] = None,
    budget: BudgetFields = None,
) -> Response:
    call = service.get_call(session, call_id)
    fields = {k: v for k, v in locals().items() if isinstance(v, str) and k != "remove_cover"}
    return _save(request, session, settings, user, call, fields, cover, remove_cover == "1", budget)


@router.post("/calls/{call_id}/categories", name="admin:category_add")
def add_category(request: Request, session: DbSession, admin: AdminUser, call_id: int, category_name: Text = "",
                 category_slug: Text = "", category_description: Text = "", position: Text = "0",
                 form_token: FormToken = "") -> Response:
    name, slug, description = category_name, category_slug, category_description
    call = service.get_call(session, call_id)
    sent = submission.claim(session, token=form_token, form="admin:category_add", user_id=admin.id,
                            content=[call_id, name, slug, description, position])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    try:
        service.save_category(session, call, name=name, slug=slug, description=description,
                              position=max(0, _as_int(position, 0)))
    except ValidationFailed as exc:
        session.rollback()
        values = _call_values(session, call)
        values.update(new_category={"name": name, "slug": slug, "description": description, "position": position})
        return _form(request, session, call, values, {f"category_{k}": v for k, v in exc.errors.items()}, 422)
    location, message = links.path("admin:call_edit", call_id=call_id, _anchor="categories"), N_("The theme is saved.")
    submission.settle(session, sent, location=location, message=message)
    session.commit()
    return flash(request, redirect(location), message, "success")


@router.post("/calls/{call_id}/categories/{category_id}", name="admin:category_edit")
def edit_category(request: Request, session: DbSession, settings: AppSettings, _admin: AdminUser, call_id: int,
                  category_id: int, name: Text = "", slug: Text = "", description: Text = "", position: Text = "0",
                  delete: Flag = "") -> Response:
    call = service.get_call(session, call_id)
    category = service.get_category(session, call, category_id)
    if delete == "1":
        service.delete_category(session, settings, category)
        session.commit()
        return flash(request, redirect(links.path("admin:call_edit", call_id=call_id, _anchor="categories")),
                     N_("The theme is deleted."), "info")
    try:
        service.save_category(session, call, name=name, slug=slug, description=description,
                              position=max(0, _as_int(position, 0)), category=category)
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, session, call, _call_values(session, call),
                     {f"category_{category_id}_{k}": v for k, v in exc.errors.items()}, 422)
    session.commit()
    return flash(request, redirect(links.path("admin:call_edit", call_id=call_id, _anchor="categories")),
                 N_("The theme is saved."), "success")


@router.get("/districts", name="admin:districts")
def districts(request: Request, session: DbSession, _admin: AdminUser) -> HTMLResponse:
    return render(request, "call/admin_districts.html",
                  {"districts": service.all_districts(session), "values": {}, "errors": {}})


@router.post("/districts", name="admin:district_add")
def add_district(request: Request, session: DbSession, admin: AdminUser, name: Text = "", slug: Text = "",
                 position: Text = "0", form_token: FormToken = "") -> Response:
    sent = submission.claim(session, token=form_token, form="admin:district_add", user_id=admin.id,
                            content=[name, slug, position])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    try:
        service.save_district(session, name=name, slug=slug, position=max(0, _as_int(position, 0)))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "call/admin_districts.html", {
            "districts": service.all_districts(session), "errors": exc.errors,
            "values": {"name": name, "slug": slug, "position": position}}, status_code=422)
    location, message = links.path("admin:districts"), N_("The district is saved.")
    submission.settle(session, sent, location=location, message=message)
    session.commit()
    return flash(request, redirect(location), message, "success")


@router.post("/districts/{district_id}", name="admin:district_edit")
def edit_district(request: Request, session: DbSession, _admin: AdminUser, district_id: int, name: Text = "",
                  slug: Text = "", position: Text = "0", delete: Flag = "") -> Response:
    district = service.get_district(session, district_id)
    if delete == "1":
        service.delete_district(session, district)
        session.commit()
        return flash(request, redirect(links.path("admin:districts")), N_("The district is deleted."), "info")
    try:
        service.save_district(session, name=name, slug=slug, position=max(0, _as_int(position, 0)),
                              district=district)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "call/admin_districts.html", {
            "districts": service.all_districts(session), "values": {},
            "errors": {f"district_{district_id}_{k}": v for k, v in exc.errors.items()}}, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("admin:districts")), N_("The district is saved."), "success")
