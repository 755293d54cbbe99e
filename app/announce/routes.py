"""Announcement pages. Moderators: the list and the new-announcement form, the compose page
(edit per language, preview per channel against each network's limit, publish now or at a
time), cancelling, and which events of a call may be announced. Everyone: the published
announcements, one announcement's page and the site's Atom feed of announcements."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from app import authz, links
from app.account.models import User
from app.announce import counting, delivery, feeds, queries, replies, service
from app.announce.channels import registry
from app.announce.channels.compose import post_text
from app.announce.models import (
    DELIVERY_LABELS,
    EVENT_LABELS,
    STATUS_LABELS,
    Announcement,
    AnnouncementEvent,
    ChannelAccount,
)
from app.authz import Action
from app.call import queries as call_queries
from app.call.models import Call
from app.db import get_or_not_found
from app.deps import AppSettings, DbSession, ModeratorUser
from app.errors import NotFound, ValidationFailed
from app.i18n import CITY_TZ, LANGUAGE_NAMES, N_, current_language, gettext
from app.idea.models import Idea
from app.identity import service as identity_service
from app.moderation.admin_service import assigned_ids
from app.params import parse_id
from app.settings import LANGUAGES
from app.share import video as share_video
from app.share.tags import DESCRIPTION_LENGTH, Preview
from app.submission import service as submission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render

router = APIRouter(tags=["announce"], include_in_schema=False)

Short = Annotated[str, Form(max_length=100)]
Link = Annotated[str, Form(max_length=service.MAX_LINK + 100)]
Alt = Annotated[str, Form(max_length=service.MAX_ALT + 100)]
LongText = Annotated[str, Form(max_length=service.MAX_TEXT + 500)]
FEED_CACHE = "public, max-age=300"


def _target(session: Session, call: Call | None) -> authz.Moderated | None:
    """What app.authz decides on: the call with its assigned moderators, or None for no call."""
    if call is None:
        return None
    assert call.id is not None
    return authz.Moderated(call, assigned_ids(session, call.id))


def _announcement(session: Session, user: User, announcement_id: int) -> tuple[Announcement, Call | None]:
    """The announcement and its call, if `user` may compose announcements of that call."""
    announcement = get_or_not_found(session, Announcement, announcement_id)
    call = session.get(Call, announcement.call_id) if announcement.call_id else None
    authz.require(user, Action.announce_compose, _target(session, call))
    return announcement, call


def _parse_time(value: str) -> datetime | None:
    """A `datetime-local` value ("2026-12-03T18:00"), read in the city's time zone; None if unreadable."""
    try:
        local = datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return local.replace(tzinfo=CITY_TZ)


def _previews(texts: dict[str, str], link: str) -> list[dict[str, Any]]:
    """Per language with a text: the post as channels receive it and its count per channel."""
    found = []
    for lang in LANGUAGES:
        text = texts.get(lang, "")
        if text.strip():
            post = post_text(text.strip(), link.strip())
            found.append({"lang": lang, "name": LANGUAGE_NAMES[lang], "post": post, "counts": counting.counts(post)})
    return found


def _compose(request: Request, session: Session, announcement: Announcement, call: Call | None,
             values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
             status_code: int = 200) -> HTMLResponse:
    if values is None:
        scheduled = announcement.scheduled_at.astimezone(CITY_TZ) if announcement.scheduled_at else None
        values = {"texts": dict(announcement.texts), "link": announcement.link, "image_alt": announcement.image_alt,
                  "attach_image": announcement.image_id is not None,
                  "original_language": announcement.original_language,
                  "scheduled_at": scheduled.strftime("%Y-%m-%dT%H:%M") if scheduled else ""}
    idea = session.get(Idea, announcement.idea_id) if announcement.idea_id else None
    is_results = announcement.event == AnnouncementEvent.results_published
    return render(request, "announce/compose.html", {
        "announcement": announcement, "call": call, "idea": idea, "values": values, "errors": errors or {},
        "previews": _previews(values["texts"], values["link"]), "channels": counting.CHANNELS,
        "languages": [(lang, LANGUAGE_NAMES[lang]) for lang in LANGUAGES],
        # Translations written from an earlier original, as saved (app.announce.service).
        "out_of_date": service.out_of_date(announcement),
        "editable": announcement.status in service.EDITABLE, "is_results": is_results,
        "unanswered": service.unanswered_count(session, call.id) if is_results and call and call.id else 0,
        "event_labels": EVENT_LABELS, "status_labels": STATUS_LABELS,
        "targets": session.exec(select(ChannelAccount).where(col(ChannelAccount.enabled))
                                .order_by(col(ChannelAccount.id))).all(),
        "rows": queries.deliveries(session, announcement_id=announcement.id) if announcement.id else [],
        "delivery_labels": DELIVERY_LABELS, "retryable": delivery.RETRYABLE, "cancellable": delivery.CANCELLABLE,
    }, status_code=status_code)


def _manage(request: Request, session: Session, user: User, values: dict[str, str] | None = None,
            errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    calls = session.exec(select(Call).order_by(col(Call.submissions_start).desc(), col(Call.id).desc())).all()
    return render(request, "announce/manage.html", {
        "announcements": queries.for_moderators(session),
        "calls": [c for c in calls if authz.can(user, Action.announce_compose, _target(session, c))],
        "call_titles": {c.id: c.title for c in calls},
        "events": [("", gettext("Choose…"))] + [(str(e), gettext(EVENT_LABELS[e])) for e in AnnouncementEvent],
        "event_labels": EVENT_LABELS, "status_labels": STATUS_LABELS,
        "values": values or {}, "errors": errors or {},
    }, status_code=status_code)


@router.get("/moderation/announcements", name="announce:manage")
def manage(request: Request, session: DbSession, user: ModeratorUser) -> HTMLResponse:
    """Every announcement with its state, and the form to start a new one."""
    return _manage(request, session, user)


@router.post("/moderation/announcements", name="announce:create")
def create(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser,
           event: Short = "", call_id: Short = "", idea_id: Short = "", form_token: FormToken = "") -> Response:
    """Draft a new announcement of `event` from its template, then open it in the compose page."""
    call = session.get(Call, parse_id(call_id) or 0) if call_id else None
    if call_id and call is None:
        raise NotFound()
    authz.require(user, Action.announce_compose, _target(session, call))
    sent = submission.claim(session, token=form_token, form="announce:create", user_id=user.id,
                            content=[event, call_id, idea_id])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    idea = session.get(Idea, parse_id(idea_id) or 0) if idea_id.strip() else None
    try:
        announcement = service.create_draft(session, actor=user, settings=settings, event=event, call=call,
                                            idea=idea)
    except ValidationFailed as exc:
        session.rollback()
        return _manage(request, session, user, {"event": event, "call_id": call_id, "idea_id": idea_id},
                       exc.errors, 422)
    assert announcement.id is not None
    message = N_("A draft was written from the template: read it, adjust it, then publish it.")
    response = flash(request, redirect(links.path("announce:compose", announcement_id=announcement.id)),
                     message, "success")
    submission.settle(session, sent, location=response.headers["location"], message=message)
    session.commit()
    return response


@router.get("/moderation/announcements/{announcement_id}", name="announce:compose")
def compose(request: Request, session: DbSession, user: ModeratorUser, announcement_id: int) -> HTMLResponse:
    """The compose page: texts per language, link, image, previews per channel, publication."""
    announcement, call = _announcement(session, user, announcement_id)
    return _compose(request, session, announcement, call)


@router.post("/moderation/announcements/{announcement_id}", name="announce:update")
def update(request: Request, session: DbSession, user: ModeratorUser, announcement_id: int,
           text_fr: LongText = "", text_en: LongText = "", text_nl: LongText = "", text_de: LongText = "",
           link: Link = "", attach_image: Short = "", image_alt: Alt = "", scheduled_at: Short = "",
           confirm_results: Short = "", action: Short = "save", form_token: FormToken = "",
           original_language: Short = "") -> Response:
    """Save the texts, preview them (nothing saved), publish now, or schedule (`action`)."""
    announcement, call = _announcement(session, user, announcement_id)
    texts = {"fr": text_fr, "en": text_en, "nl": text_nl, "de": text_de}
    values = {"texts": texts, "link": link, "attach_image": bool(attach_image), "image_alt": image_alt,
              "scheduled_at": scheduled_at, "confirm_results": bool(confirm_results),
              "original_language": original_language or announcement.original_language}
    if action == "preview":
        return _compose(request, session, announcement, call, values)
    sent = submission.claim(session, token=form_token, form="announce:update", user_id=user.id,
                            content=[announcement_id, action, texts, link, attach_image, image_alt, scheduled_at,
                                     original_language])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    confirmed = bool(confirm_results)
    try:
        service.edit(session, announcement=announcement, texts=texts, link=link, attach_image=bool(attach_image),
                     image_alt=image_alt, original_language=original_language or None)
        if action == "publish":
            service.publish(session, actor=user, announcement=announcement, confirmed=confirmed)
            message = N_("The announcement is published.")
        elif action == "schedule":
            service.schedule(session, actor=user, announcement=announcement, at=_parse_time(scheduled_at),
                             confirmed=confirmed)
            message = N_("The announcement is scheduled.")
        else:
            message = N_("The announcement is saved.")
    except ValidationFailed as exc:
        session.rollback()
        session.refresh(announcement)
        return _compose(request, session, announcement, call, values, exc.errors, 422)
    response = flash(request, redirect(links.path("announce:compose", announcement_id=announcement_id)),
                     message, "success")
    submission.settle(session, sent, location=response.headers["location"], message=message)
    session.commit()
    return response


@router.post("/moderation/announcements/{announcement_id}/cancel", name="announce:cancel")
def cancel(request: Request, session: DbSession, user: ModeratorUser, announcement_id: int) -> Response:
    """Cancel a draft or scheduled announcement."""
    announcement, _call = _announcement(session, user, announcement_id)
    service.cancel(session, actor=user, announcement=announcement)
    session.commit()
    return flash(request, redirect(links.path("announce:compose", announcement_id=announcement_id)),
                 N_("The announcement is cancelled."), "success")


def _call_for_events(session: Session, user: User, call_id: int) -> Call:
    call = get_or_not_found(session, Call, call_id)
    authz.require(user, Action.announce_compose, _target(session, call))
    return call


@router.get("/moderation/calls/{call_id}/announced-events", name="announce:events")
def events(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> HTMLResponse:
    """Which events of a call may be announced (all of them until someone turns one off)."""
    call = _call_for_events(session, user, call_id)
    return render(request, "announce/events.html", {
        "call": call, "enabled": service.enabled_events(session, call_id),
        "events": [(str(e), EVENT_LABELS[e]) for e in service.CALL_EVENTS],
    })


@router.post("/moderation/calls/{call_id}/announced-events", name="announce:save_events")
async def save_events(request: Request, session: DbSession, user: ModeratorUser, call_id: int) -> Response:
    """Keep the ticked events as the ones of this call that may be announced."""
    call = _call_for_events(session, user, call_id)
    form = await request.form()
    service.set_enabled_events(session, actor=user, call=call, enabled={str(v) for v in form.getlist("event")})
    session.commit()
    return flash(request, redirect(links.path("announce:events", call_id=call_id)),
                 N_("The announced events of “{title}” are saved."), "success", title=call.title)


# --- Public pages ---------------------------------------------------------------------------

@router.get("/announcements", name="announce:list")
def public_list(request: Request, session: DbSession) -> HTMLResponse:
    """The published announcements, newest first."""
    found = queries.published(session)
    return _public(request, session, "announce/list.html", {"announcements": found})


def _public(request: Request, session: Session, template: str, context: dict[str, Any]) -> HTMLResponse:
    announcements = context["announcements"] if "announcements" in context else [context["announcement"]]
    ids = {a.call_id for a in announcements if a.call_id}
    calls = {c.id: c for c in session.exec(select(Call).where(col(Call.id).in_(ids))).all()} if ids else {}
    lang = current_language()
    context.update(calls=calls, texts={a.id: queries.text_for(a, lang) for a in announcements},
                   text_languages={a.id: queries.language_for(a, lang) for a in announcements},
                   event_labels=EVENT_LABELS)
    return render(request, template, context)


@router.get("/announcements/feed.atom", name="announce:feed")
def feed(session: DbSession, settings: AppSettings) -> Response:
    """The site's Atom feed of announcements: exactly the published ones."""
    return Response(feeds.feed(session, settings), media_type=feeds.CONTENT_TYPE,
                    headers={"Cache-Control": FEED_CACHE})


@router.get("/announcements/{announcement_id}", name="announce:detail")
def detail(request: Request, session: DbSession, settings: AppSettings, announcement_id: int) -> HTMLResponse:
    """One published announcement (404 for any other), with its share preview."""
    announcement = queries.published_one(session, announcement_id)
    if announcement is None:
        raise NotFound()
    text = queries.text_for(announcement, current_language())
    call = call_queries.visible_call_by_id(session, announcement.call_id, None) if announcement.call_id else None
    url = settings.absolute_url(links.path("announce:detail", announcement_id=announcement_id))
    image = (settings.absolute_url(links.path("share:call_image", slug=call.slug)) if call
             else settings.absolute_url(links.path("share:site_image")))
    share = Preview(title=feeds.title_of(text) or gettext("Announcement"),
                    description=feeds.excerpt(text, DESCRIPTION_LENGTH), url=url, image=image,
                    image_alt=call.title if call else gettext(
                        "{platform}: every idea gets an answer.",
                        platform=identity_service.for_request(request).platform_name),
                    type="article")
    # The video in its link or its text, in a click-to-load player.
    videos = share_video.videos_in(f"{announcement.link}\n{text}", settings.peertube_host_list)
    return _public(request, session, "announce/detail.html", {
        "announcement": announcement, "share": share, "videos": videos,
        "reactions": replies.approved_for(session, announcement_id), "kinds": registry.KINDS})
