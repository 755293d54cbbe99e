"""The channels' pages. Administrators: the channels, adding and editing one, trying its
credentials, switching it on and off. Moderators and administrators: the deliveries, with their
state, attempts, last error and the post's link, and retrying or cancelling one."""

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import authz, links
from app.account.models import User
from app.announce import channel_accounts, delivery, queries
from app.announce.channels import registry
from app.announce.models import DELIVERY_LABELS, Announcement, ChannelAccount, Delivery, DeliveryStatus
from app.authz import Action
from app.call.models import Call
from app.db import get_or_not_found
from app.deps import AppSettings, DbSession, allowed
from app.errors import NotFound, ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_
from app.moderation.admin_service import assigned_ids
from app.params import parse_id
from app.settings import LANGUAGES
from app.web import flash, redirect, render

router = APIRouter(tags=["announce"], include_in_schema=False)

ChannelAdmin = Annotated[User, allowed(Action.channel_manage)]
DeliveryStaff = Annotated[User, allowed(Action.delivery_manage)]
Short = Annotated[str, Form(max_length=100)]
Value = Annotated[str, Form(max_length=channel_accounts.MAX_VALUE + 100)]
PAGE_SIZE = 100

def _channel(session: Session, channel_id: int) -> ChannelAccount:
    return get_or_not_found(session, ChannelAccount, channel_id)


def _form(request: Request, settings: AppSettings, kind: registry.Kind, channel: ChannelAccount | None,
          label: str, values: dict[str, str], errors: dict[str, str] | None = None,
          status_code: int = 200, checked: tuple[bool, str] | None = None) -> HTMLResponse:
    return render(request, "announce/channel_form.html", {
        "kind": kind, "channel": channel, "label": label, "values": values, "errors": errors or {},
        "languages": [(lang, LANGUAGE_NAMES[lang]) for lang in LANGUAGES],
        "visibilities": [("public", N_("Public")), ("unlisted", N_("Unlisted (not in public timelines)"))],
        "stored": channel_accounts.stored_secret_names(settings, channel) if channel else set(),
        "checked": checked,
    }, status_code=status_code)


@router.get("/admin/channels", name="announce:channels")
def channels(request: Request, session: DbSession, user: ChannelAdmin) -> HTMLResponse:
    """Every channel with its state and its deliveries counted, and the kinds one can add."""
    return render(request, "announce/channels.html", {
        "channels": channel_accounts.listed(session), "kinds": list(registry.KINDS.values()),
        "kinds_by_key": registry.KINDS,
        "delivery_labels": DELIVERY_LABELS,
    })


@router.get("/admin/channels/new", name="announce:channel_new")
def channel_new(request: Request, settings: AppSettings, user: ChannelAdmin, kind: str = "") -> HTMLResponse:
    """The form to add a channel of `kind`."""
    if kind not in registry.KINDS:
        raise NotFound()
    spec = registry.kind_of(kind)
    defaults = {f.name: "" for f in spec.fields} | {"language": settings.default_language, "visibility": "public"}
    return _form(request, settings, spec, None, "", defaults)


async def _values(request: Request, kind: registry.Kind) -> dict[str, str]:
    form = await request.form()
    values: dict[str, str] = {}
    for field in kind.fields:
        raw = form.get(field.name, "")
        value = raw if isinstance(raw, str) else ""
        if len(value) > channel_accounts.MAX_VALUE + 100:
            value = value[: channel_accounts.MAX_VALUE + 1]  # refused as too long by the service
        values[field.name] = value
    return values


@router.post("/admin/channels", name="announce:channel_create")
async def channel_create(request: Request, session: DbSession, settings: AppSettings, user: ChannelAdmin,
                         kind: Short = "", label: Short = "") -> Response:
    """Add a channel; the form again with its errors when something is wrong."""
    if kind not in registry.KINDS:
        raise NotFound()
    spec = registry.kind_of(kind)
    values = await _values(request, spec)
    try:
        channel = channel_accounts.save(session, settings, actor=user, channel=None, kind_key=kind, label=label,
                                        values=values)
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, settings, spec, None, label, _shown(spec, values), exc.errors, 422)
    session.commit()
    return flash(request, redirect(links.path("announce:channel_edit", channel_id=channel.id)),
                 N_("The channel is saved. Try its connection before the next announcement."), "success")


def _shown(kind: registry.Kind, values: dict[str, str]) -> dict[str, str]:
    """Values to show again in a refused form: never a secret."""
    return {k: ("" if any(f.secret and f.name == k for f in kind.fields) else v) for k, v in values.items()}


@router.get("/admin/channels/{channel_id}", name="announce:channel_edit")
def channel_edit(request: Request, session: DbSession, settings: AppSettings, user: ChannelAdmin,
                 channel_id: int) -> HTMLResponse:
    """A channel's form: its settings, empty secret fields (filled ones replace the stored)."""
    channel = _channel(session, channel_id)
    return _form(request, settings, registry.kind_of(channel.kind), channel, channel.label,
                 channel_accounts.form_values(channel))


@router.post("/admin/channels/{channel_id}", name="announce:channel_update")
async def channel_update(request: Request, session: DbSession, settings: AppSettings, user: ChannelAdmin,
                         channel_id: int, label: Short = "", action: Short = "save") -> Response:
    """Save a channel's settings (`action` save), try its connection (check), or switch it
    on or off (enable, disable)."""
    channel = _channel(session, channel_id)
    spec = registry.kind_of(channel.kind)
    here = redirect(links.path("announce:channel_edit", channel_id=channel_id))
    if action == "check":
        ok, said = channel_accounts.check(settings, request.app.state.db, channel)
        session.add(channel)
        session.commit()  # a token the network renewed during the check
        return _form(request, settings, spec, channel, channel.label, channel_accounts.form_values(channel),
                     checked=(ok, said))
    if action in ("enable", "disable"):
        channel_accounts.switch(session, actor=user, channel=channel, enabled=action == "enable")
        session.commit()
        message = N_("The channel is on.") if action == "enable" else N_("The channel is off.")
        return flash(request, here, message, "success")
    values = await _values(request, spec)
    try:
        channel_accounts.save(session, settings, actor=user, channel=channel, kind_key=channel.kind, label=label,
                              values=values)
    except ValidationFailed as exc:
        session.rollback()
        session.refresh(channel)
        return _form(request, settings, spec, channel, label, _shown(spec, values), exc.errors, 422)
    session.commit()
    return flash(request, here, N_("The channel is saved."), "success")


# --- Deliveries -------------------------------------------------------------------------------

@router.get("/moderation/deliveries", name="announce:deliveries")
def deliveries(request: Request, session: DbSession, user: DeliveryStaff, status: str = "",
               channel: str = "") -> HTMLResponse:
    """The latest deliveries, newest first, filtered by state and channel."""
    chosen_status = status if status in set(DeliveryStatus) else ""
    channel_id = parse_id(channel) if channel else None
    rows = queries.deliveries(session, status=chosen_status or None, channel_id=channel_id, limit=PAGE_SIZE)
    mine = moderated_announcements(session, user, Action.delivery_manage,
                                   [r.announcement for r in rows if r.announcement is not None])
    answers = authz.can(user, Action.delivery_manage, None)  # the assistant's answers under mentions
    rows = [r for r in rows if (r.announcement.id in mine if r.announcement is not None else answers)]
    return render(request, "announce/deliveries.html", {
        "rows": rows, "status": chosen_status, "channel_id": channel_id,
        "channels": [c for c, _counts in channel_accounts.listed(session)],
        "statuses": [(str(s), DELIVERY_LABELS[s]) for s in DeliveryStatus], "delivery_labels": DELIVERY_LABELS,
        "attention": channel_accounts.needing_attention(session), "retryable": delivery.RETRYABLE,
        "cancellable": delivery.CANCELLABLE,
    })


def announcement_target(session: Session, announcement_id: int | None) -> authz.Moderated | None:
    """What app.authz decides on for a delivery or a reply of announcement `announcement_id`:
    its call with the call's assigned moderators, or None for an announcement of no call (and
    for a delivery of no announcement: the assistant's answer under a mention)."""
    announcement = session.get(Announcement, announcement_id) if announcement_id is not None else None
    call = session.get(Call, announcement.call_id) if announcement and announcement.call_id else None
    if call is None or call.id is None:
        return None
    return authz.Moderated(call, assigned_ids(session, call.id))


def moderated_announcements(session: Session, user: User, action: Action,
                            announcements: Iterable[Announcement]) -> set[int]:
    """The ids among `announcements` whose call `user` moderates for `action` (every one for
    an administrator or an announcement of no call): what a list shows a moderator, so that
    nobody sees rows they may not act on."""
    allowed_calls: dict[int | None, bool] = {}
    kept = set()
    for announcement in announcements:
        if announcement.call_id not in allowed_calls:
            assert announcement.id is not None
            allowed_calls[announcement.call_id] = authz.can(user, action, announcement_target(session, announcement.id))
        if allowed_calls[announcement.call_id] and announcement.id is not None:
            kept.add(announcement.id)
    return kept


def _delivery(session: Session, user: User, delivery_id: int) -> Delivery:
    """Delivery `delivery_id`, if `user` moderates its announcement's call (else Forbidden)."""
    row = get_or_not_found(session, Delivery, delivery_id)
    authz.require(user, Action.delivery_manage, announcement_target(session, row.announcement_id))
    return row


@router.post("/moderation/deliveries/{delivery_id}/retry", name="announce:delivery_retry")
def delivery_retry(request: Request, session: DbSession, user: DeliveryStaff, delivery_id: int) -> Response:
    """Try a failed, parked or cancelled delivery again (the same key: never posted twice)."""
    delivery.retry(session, actor=user, delivery=_delivery(session, user, delivery_id))
    session.commit()
    return flash(request, redirect(links.path("announce:deliveries")),
                 N_("The delivery will be tried again in a moment."), "success")


@router.post("/moderation/deliveries/{delivery_id}/cancel", name="announce:delivery_cancel")
def delivery_cancel(request: Request, session: DbSession, user: DeliveryStaff, delivery_id: int) -> Response:
    """Cancel a waiting delivery: it will not be posted."""
    delivery.cancel(session, actor=user, delivery=_delivery(session, user, delivery_id))
    session.commit()
    return flash(request, redirect(links.path("announce:deliveries")), N_("The delivery is cancelled."), "success")
