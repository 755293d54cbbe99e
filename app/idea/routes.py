"""Idea pages: propose (draft or submit), read, edit, submit, withdraw, and photo files."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile as ReceivedFile

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.call import service as call_service
from app.call.models import Call
from app.call.queries import visible_call_by_slug
from app.deps import AppSettings, CitizenUser, CurrentUser, DbSession
from app.errors import AppError, Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from app.i18n import N_
from app.idea import queries, service
from app.idea.models import Idea, IdeaPhoto, IdeaStatus
from app.maps import forms as maps_forms
from app.maps import service as maps_service
from app.media import service as media_service
from app.params import parse_id
from app.residents import service as residents
from app.residents.models import Part
from app.richtext import render_markdown
from app.search import engines as search_engines
from app.search.routes import STATUS_LABELS
from app.share import previews as share_previews
from app.submission import service as submission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render

router = APIRouter(tags=["ideas"], include_in_schema=False)

TextField = Annotated[str, Form(max_length=2_000)]  # generous: the service says what is too long
BodyField = Annotated[str, Form(max_length=100_000)]
Photo = Annotated[UploadFile | str | None, File()]
VARIANTS = ("display", "card", "thumb")


def _read_upload(upload: UploadFile | str | None, limit: int) -> bytes | None:
    """The bytes of a chosen file, or None when the field was left empty (forms parse into
    Starlette's UploadFile, not FastAPI's subclass). Reads one byte past
    the limit so the media service can refuse an oversized file without holding more."""
    if not isinstance(upload, ReceivedFile) or not upload.filename:
        return None
    upload.file.seek(0)
    return upload.file.read(limit + 1) or None


def _new_photos(limit: int, uploads: list[Photo], alts: list[str]) -> service.PhotoChanges:
    changes = service.PhotoChanges()
    for index, (upload, alt) in enumerate(zip(uploads, alts, strict=True), start=1):
        data = _read_upload(upload, limit)
        if data is not None:
            changes.new.append(service.PhotoInput(data=data, alt_text=alt, field=f"photo_{index}"))
    return changes


def _form_context(session: Session, call: Call, values: dict[str, Any], errors: dict[str, str],
                  idea: Idea | None = None, existing: list[IdeaPhoto] | None = None) -> dict[str, Any]:
    assert call.id is not None
    categories = call_service.categories_of(session, call.id)
    return {
        "call": call, "idea": idea, "values": values, "errors": errors, "categories": categories,
        "category_choices": [(c.id, c.name) for c in categories],
        "district_choices": [(d.id, d.name) for d in call_service.all_districts(session)],
        "existing": existing or [],
        "max_photos": service.MAX_PHOTOS,
        "photo_slots": range(1, service.MAX_PHOTOS + 1 - len(existing or [])),
        "similar": [], "similar_checked": False, "status_labels": STATUS_LABELS,
        "requested_changes": queries.requested_changes(session, idea) if idea else None,
        "preview": None,
        **maps_forms.form_context(session, call, idea),  # the location block (app.maps)
    }


@router.get("/calls/{slug}/ideas/new", name="idea:new")
def new_form(request: Request, session: DbSession, user: CurrentUser, slug: str) -> HTMLResponse:
    call = visible_call_by_slug(session, slug, user)
    _require_create(session, user, call)
    return render(request, "idea/form.html", _form_context(session, call, {}, {}))


def _require_create(session: Session, user: User | None, call: Call) -> User:
    """The author of a new idea in `call`, or why they may not propose one (LoginRequired,
    Forbidden with the reason: an unconfirmed e-mail address, the call's phase, or a call for
    verified residents only)."""
    if user is not None and authz.can(user, Action.idea_create, call):
        return authz.require_taking_part(user, residents.taking(session, user, call, Part.submit))
    if user is not None and authz.is_active(user) and not authz.is_verified(user):
        raise Forbidden(N_("Please confirm your e-mail address before proposing an idea."))
    if user is not None:
        raise Forbidden(N_("This call does not accept new ideas at the moment."))
    return authz.require_user(user, Action.idea_create, call)


def _typed(title: str, body_md: str, category_id: str, district_id: str, alts: list[str]) -> dict[str, Any]:
    """What was typed in the idea form, by field name, as the form shows it again after a refusal,
    a preview or a similar-ideas check: the raw strings (ids unparsed, so a bad value is shown
    as sent), the new photos' descriptions as `alt_photo_1`..`alt_photo_4`. The order is fixed:
    a repeated submission is recognised by these values in this order."""
    values: dict[str, Any] = {"title": title, "body_md": body_md, "category_id": category_id,
                              "district_id": district_id}
    values.update({f"alt_photo_{n}": alt for n, alt in enumerate(alts, start=1)})
    return values


def _ids(raw: list[str] | None) -> set[int]:
    """The valid ids among a multi-valued form field's values (bad ones are ignored)."""
    return {i for i in (parse_id(v) for v in (raw or [])) if i is not None}


def _existing_alts(existing_id: list[str] | None, existing_alt: list[str] | None) -> dict[int, str]:
    """The descriptions typed for the idea's kept photos, {photo id: text}: the edit form sends
    the ids and the texts as two parallel lists; a pair with a bad id is ignored."""
    ids = [parse_id(v) for v in (existing_id or [])]
    return {i: alt for i, alt in zip(ids, existing_alt or [], strict=False) if i is not None}


@router.post("/calls/{slug}/ideas/new", name="idea:create")
def create(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, slug: str,
    where: maps_forms.LocationForm,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    language: TextField = "",
    action: TextField = "submit",
    photo_1: Photo = None, photo_2: Photo = None, photo_3: Photo = None, photo_4: Photo = None,
    alt_photo_1: TextField = "", alt_photo_2: TextField = "", alt_photo_3: TextField = "",
    alt_photo_4: TextField = "", form_token: FormToken = "",
) -> Response:
    call = visible_call_by_slug(session, slug, user)
    author = _require_create(session, user, call)
    values = _typed(title, body_md, category_id, district_id, [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    values["language"] = language
    values.update(where.values())
    data = service.IdeaInput(title=title, body_md=body_md, category_id=parse_id(category_id),
                             district_id=parse_id(district_id), language=language)
    photos = _new_photos(settings.max_upload_bytes, [photo_1, photo_2, photo_3, photo_4],
                         [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    sent = submission.claim(session, token=form_token, form="idea:new", user_id=author.id,
                            content=[call.id, action, *values.values(), [p.data for p in photos.new]])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    try:
        residents.take_part(session, user=author, call=call, part=Part.submit)
        spot = maps_service.resolve(session, settings, call=call, given=where, draft=action == "draft")
        data.district_id = maps_forms.district_for(session, data.district_id, spot, where)
        idea = service.create_idea(session, settings, call, author, data=data, photos=photos,
                                   submit=action != "draft")
        assert idea.id is not None
        maps_service.place_idea(session, idea_id=idea.id, resolved=spot)
    except (ValidationFailed, RateLimited, Conflict) as exc:
        return _refused(request, session, exc, author, photos, call, values)
    assert idea.id is not None  # flushed by create_idea
    message, location = _created_message(idea), links.idea_path(idea.id)
    submission.settle(session, sent, location=location, message=message, object_id=idea.id)
    session.commit()
    return flash(request, redirect(location), message, "success")


def _refused(request: Request, session: Session, exc: AppError, author: User, photos: service.PhotoChanges,
             call: Call, values: dict[str, Any], idea_id: int | None = None) -> Response:
    """The form again, with what was typed and why it was refused: 422 for bad input, 429 for
    a limit (posting too fast, the daily photo quota) with Retry-After. Nothing is written,
    except that photos decoded before the refusal still count towards the quota."""
    session.rollback()
    if photos.charged:
        media_service.record_uploads(session, author, photos.charged)
        session.commit()
    errors = exc.errors if isinstance(exc, ValidationFailed) else {"form": exc.message}
    idea = service.get_idea(session, idea_id) if idea_id is not None else None
    existing = service.photos_of(session, idea_id) if idea_id is not None else None
    context = _form_context(session, call, values, errors, idea, existing)  # the idea as it still is
    if isinstance(exc, RateLimited):
        return render(request, "idea/form.html", context, status_code=429,
                      headers={"Retry-After": str(exc.retry_after)})
    return render(request, "idea/form.html", context, status_code=422)


@router.post("/calls/{slug}/ideas/new/similar", name="idea:check_similar")
def check_similar(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, slug: str,
    where: maps_forms.LocationForm,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    language: TextField = "",
    alt_photo_1: TextField = "", alt_photo_2: TextField = "", alt_photo_3: TextField = "",
    alt_photo_4: TextField = "",
) -> HTMLResponse:
    """The new-idea form again, with everything typed kept and the similar public ideas of the
    call listed: the form's "Check for similar ideas" button, for browsers without JavaScript.
    Nothing is saved; chosen photos must be chosen again (browsers never resend a file)."""
    call = visible_call_by_slug(session, slug, user)
    _require_create(session, user, call)
    assert call.id is not None
    values = _typed(title, body_md, category_id, district_id, [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    values["language"] = language
    values.update(where.values())
    context = _form_context(session, call, values, {})
    context.update(similar=search_engines.suggest(session, settings, call.id, title, body_md), similar_checked=True)
    return render(request, "idea/form.html", context)


def _chose_photos(uploads: list[Photo]) -> bool:
    """Whether any photo field of a previewed form carried a file (browsers never resend it)."""
    return any(isinstance(u, ReceivedFile) and bool(u.filename) for u in uploads)


def _preview(request: Request, context: dict[str, Any], values: dict[str, Any], photos_chosen: bool,
             fragment: str) -> HTMLResponse:
    """The idea as it will be shown (title and Markdown body through the same renderer and
    sanitiser as the idea page), in the form shown again with everything typed kept; or only the
    preview itself when `fragment` is "1" (static/js/preview.js puts it in place, keeping the
    chosen files in the page). Nothing is saved."""
    context.update(preview={"title": values["title"].strip(), "body_html": render_markdown(values["body_md"]),
                            "photos_chosen": photos_chosen})
    if fragment == "1":
        return render(request, "idea/_preview.html", context)
    return render(request, "idea/form.html", context)


@router.post("/calls/{slug}/ideas/new/preview", name="idea:preview_new")
def preview_new(
    request: Request, session: DbSession, user: CurrentUser, slug: str, where: maps_forms.LocationForm,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    language: TextField = "",
    photo_1: Photo = None, photo_2: Photo = None, photo_3: Photo = None, photo_4: Photo = None,
    alt_photo_1: TextField = "", alt_photo_2: TextField = "", alt_photo_3: TextField = "",
    alt_photo_4: TextField = "", fragment: str = "",
) -> HTMLResponse:
    """The new-idea form's "Preview" button: the form again with the idea shown as it will be
    published above its buttons. Photos chosen must be chosen again without JavaScript (the page
    says so); with it, the preview comes in place and the files stay chosen."""
    call = visible_call_by_slug(session, slug, user)
    _require_create(session, user, call)
    values = _typed(title, body_md, category_id, district_id, [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    values["language"] = language
    values.update(where.values())
    return _preview(request, _form_context(session, call, values, {}), values,
                    _chose_photos([photo_1, photo_2, photo_3, photo_4]), fragment)


def _created_message(idea: Idea) -> str:
    if idea.status == IdeaStatus.draft:
        return N_("Your draft is saved. Only you can see it until you submit it.")
    if idea.status == IdeaStatus.submitted:
        return N_("Thank you! Your idea will be published once a moderator has checked it.")
    return N_("Thank you! Your idea is published.")


@router.get("/ideas/mine", name="idea:mine")
def my_ideas(request: Request, session: DbSession, user: CitizenUser) -> HTMLResponse:
    """The signed-in person's ideas in every call, drafts and pending ones included."""
    return render(request, "idea/mine.html", {"rows": queries.ideas_of_author(session, user),
                                              "status_labels": queries.STATUS_LABELS})


@router.get("/ideas/{idea_id}", name="idea:detail")
def detail(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int) -> Response:
    idea, call = queries.visible_idea(session, idea_id, user)
    if idea.status == IdeaStatus.merged and idea.merged_into_id and not authz.is_moderator(user):
        target = session.get(Idea, idea.merged_into_id)
        if target is not None and authz.can(user, Action.idea_view, target):
            return redirect(links.idea_path(idea.merged_into_id), status_code=301)
    context = queries.idea_page_context(session, idea, user)
    # No preview for what the public may not see: its author or a moderator is on a private page.
    context["share"] = share_previews.idea_preview(settings, idea, call)
    context["location"] = maps_service.location_of(session, idea_id)  # its small map (app.maps)
    return render(request, "idea/detail.html", context)


def _own_idea(session: Session, user: User | None, idea_id: int, action: Action) -> tuple[User, Idea, Call]:
    idea, call = queries.visible_idea(session, idea_id, user)
    author = authz.require_user(user, action, (idea, call))
    return author, idea, call


@router.get("/ideas/{idea_id}/edit", name="idea:edit")
def edit_form(request: Request, session: DbSession, user: CurrentUser, idea_id: int) -> HTMLResponse:
    _author, idea, call = _own_idea(session, user, idea_id, Action.idea_edit)
    assert idea.id is not None
    existing = service.photos_of(session, idea.id)
    values: dict[str, Any] = {"title": idea.title, "body_md": idea.body_md, "category_id": idea.category_id or "",
                              "district_id": idea.district_id or ""}
    values.update({f"alt_existing_{p.id}": p.alt_text for p in existing})
    return render(request, "idea/form.html", _form_context(session, call, values, {}, idea, existing))


@router.post("/ideas/{idea_id}/edit", name="idea:update")
def edit(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int,
    where: maps_forms.LocationForm,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    language: TextField = "",
    action: TextField = "save",
    existing_id: Annotated[list[str] | None, Form(max_length=20)] = None,
    existing_alt: Annotated[list[str] | None, Form(max_length=400)] = None,
    remove_photo: Annotated[list[str] | None, Form(max_length=20)] = None,
    photo_1: Photo = None, photo_2: Photo = None, photo_3: Photo = None, photo_4: Photo = None,
    alt_photo_1: TextField = "", alt_photo_2: TextField = "", alt_photo_3: TextField = "",
    alt_photo_4: TextField = "", form_token: FormToken = "",
) -> Response:
    author, idea, call = _own_idea(session, user, idea_id, Action.idea_edit)
    assert idea.id is not None
    submit = action == "submit"
    if submit:
        authz.require(author, Action.idea_submit, (idea, call))
        authz.require_taking_part(author, residents.taking(session, author, call, Part.submit))
    photos = _new_photos(settings.max_upload_bytes, [photo_1, photo_2, photo_3, photo_4],
                         [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    photos.alt_texts = _existing_alts(existing_id, existing_alt)
    photos.remove = _ids(remove_photo)
    data = service.IdeaInput(title=title, body_md=body_md, category_id=parse_id(category_id),
                             district_id=parse_id(district_id), language=language)
    values = _typed(title, body_md, category_id, district_id, [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    values["language"] = language
    values.update(where.values())
    values.update({f"alt_existing_{k}": v for k, v in photos.alt_texts.items()})
    # An edit adding photos creates rows too: sent twice, it adds them once.
    sent = submission.claim(session, token=form_token, form="idea:edit", user_id=author.id,
                            content=[idea_id, action, *values.values(), existing_id, existing_alt, remove_photo,
                                     [p.data for p in photos.new]])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    values["remove"] = set(photos.remove)
    try:
        if submit:
            residents.take_part(session, user=author, call=call, part=Part.submit)
        located = maps_service.location_of(session, idea_id)
        spot = maps_service.resolve(session, settings, call=call, given=where, has_location=located is not None,
                                    current_label=located.label if located else "",
                                    draft=idea.status == IdeaStatus.draft and not submit)
        data.district_id = maps_forms.district_for(session, data.district_id, spot, where)
        service.update_idea(session, settings, call, idea, author, data=data, photos=photos, submit=submit)
        maps_service.place_idea(session, idea_id=idea_id, resolved=spot)
    except (ValidationFailed, RateLimited, Conflict) as exc:
        return _refused(request, session, exc, author, photos, call, values, idea_id=idea_id)
    message = _created_message(idea) if submit else N_("Your changes are saved.")
    location = links.idea_path(idea.id)
    submission.settle(session, sent, location=location, message=message, object_id=idea.id)
    session.commit()
    return flash(request, redirect(location), message, "success")


@router.post("/ideas/{idea_id}/edit/preview", name="idea:preview_edit")
def preview_edit(
    request: Request, session: DbSession, user: CurrentUser, idea_id: int, where: maps_forms.LocationForm,
    title: TextField = "", body_md: BodyField = "", category_id: TextField = "", district_id: TextField = "",
    language: TextField = "",
    existing_id: Annotated[list[str] | None, Form(max_length=20)] = None,
    existing_alt: Annotated[list[str] | None, Form(max_length=400)] = None,
    remove_photo: Annotated[list[str] | None, Form(max_length=20)] = None,
    photo_1: Photo = None, photo_2: Photo = None, photo_3: Photo = None, photo_4: Photo = None,
    alt_photo_1: TextField = "", alt_photo_2: TextField = "", alt_photo_3: TextField = "",
    alt_photo_4: TextField = "", fragment: str = "",
) -> HTMLResponse:
    """The edit form's "Preview" button, as `preview_new` for an idea its author may edit."""
    _author, idea, call = _own_idea(session, user, idea_id, Action.idea_edit)
    assert idea.id is not None
    values = _typed(title, body_md, category_id, district_id, [alt_photo_1, alt_photo_2, alt_photo_3, alt_photo_4])
    values["language"] = language
    values.update(where.values())
    values.update({f"alt_existing_{i}": alt for i, alt in _existing_alts(existing_id, existing_alt).items()})
    values["remove"] = _ids(remove_photo)
    context = _form_context(session, call, values, {}, idea, service.photos_of(session, idea.id))
    return _preview(request, context, values, _chose_photos([photo_1, photo_2, photo_3, photo_4]), fragment)


@router.post("/ideas/{idea_id}/submit", name="idea:submit")
def submit(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int) -> Response:
    author, idea, call = _own_idea(session, user, idea_id, Action.idea_submit)
    authz.require_taking_part(author, residents.taking(session, author, call, Part.submit))
    try:
        residents.take_part(session, user=author, call=call, part=Part.submit)
    except Conflict as exc:
        session.rollback()
        return flash(request, redirect(links.idea_path(idea_id)), exc.message, "error")
    try:
        service.submit_idea(session, call, idea, author, settings=settings)
    except ValidationFailed:
        session.rollback()
        return flash(request, redirect(links.path("idea:edit", idea_id=idea_id)),
                     N_("Please complete your idea before submitting it."), "error")
    session.commit()
    return flash(request, redirect(links.idea_path(idea_id)), _created_message(idea), "success")


@router.get("/ideas/{idea_id}/withdraw", name="idea:withdraw_confirm")
def withdraw_confirm(request: Request, session: DbSession, user: CurrentUser, idea_id: int) -> HTMLResponse:
    """The confirmation page of a withdrawal, naming what the author loses: withdrawing cannot be
    undone, and a published idea's supports stop counting."""
    _author, idea, call = _own_idea(session, user, idea_id, Action.idea_withdraw)
    return render(request, "idea/withdraw.html", {"idea": idea, "call": call})


@router.post("/ideas/{idea_id}/withdraw", name="idea:withdraw")
def withdraw(request: Request, session: DbSession, user: CurrentUser, idea_id: int,
             confirm: Annotated[str, Form()] = "") -> Response:
    author, idea, _call = _own_idea(session, user, idea_id, Action.idea_withdraw)
    if confirm != "yes":  # a form from before the confirmation page existed, or a forged one-tap button
        return redirect(links.path("idea:withdraw_confirm", idea_id=idea_id))
    service.withdraw_idea(session, idea, author)
    session.commit()
    return flash(request, redirect(links.idea_path(idea_id)), N_("Your idea is withdrawn."), "info")


@router.get("/ideas/{idea_id}/photos/{photo_id}/{variant}", name="idea:photo")
def photo(session: DbSession, settings: AppSettings, user: CurrentUser, idea_id: int, photo_id: int,
          variant: str) -> Response:
    if variant not in VARIANTS:
        raise NotFound()
    idea, _call = queries.visible_idea(session, idea_id, user)
    media = service.photo_media(session, idea, photo_id)
    # Never cached by shared caches: a photo must disappear as soon as its idea is hidden.
    return media_service.file_response(settings, media, variant, public=False)
