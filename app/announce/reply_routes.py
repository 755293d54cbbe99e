"""Replies from networks: the moderators' list (approve, hide, answer on the network) and a
citizen's report of an approved reply shown on an announcement's page."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import authz, links
from app.account.models import User
from app.announce import replies
from app.announce.admin_routes import announcement_target, moderated_announcements
from app.announce.models import Announcement, ChannelAccount, Delivery, NetworkReply, ReplyStatus
from app.authz import Action
from app.db import get_or_not_found
from app.deps import CurrentUser, DbSession, allowed
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.web import flash, redirect, render

router = APIRouter(tags=["announce"], include_in_schema=False)

ReplyModerator = Annotated[User, allowed(Action.reply_moderate)]
AnswerText = Annotated[str, Form(max_length=2000)]
Reason = Annotated[str, Form(max_length=500)]


def _reply(session: Session, reply_id: int) -> NetworkReply:
    return get_or_not_found(session, NetworkReply, reply_id)


def _moderated_reply(session: Session, user: User, reply_id: int) -> NetworkReply:
    """Reply `reply_id`, if `user` moderates the call its announcement is about (else Forbidden)."""
    reply = _reply(session, reply_id)
    post = get_or_not_found(session, Delivery, reply.delivery_id)
    authz.require(user, Action.reply_moderate, announcement_target(session, post.announcement_id))
    return reply


def visible_to_review(session: Session, user: User) -> list[tuple[NetworkReply, ChannelAccount, Announcement]]:
    """The replies waiting for a moderator that `user` may decide on (their calls' only)."""
    items = replies.to_review(session)
    mine = moderated_announcements(session, user, Action.reply_moderate, [a for _r, _c, a in items])
    return [item for item in items if item[2].id in mine]


def _page(request: Request, session: Session, user: User, errors: dict[int, str] | None = None,
          answers: dict[int, str] | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "announce/replies.html", {
        "items": visible_to_review(session, user), "errors": errors or {}, "answers": answers or {},
    }, status_code=status_code)


@router.get("/moderation/replies", name="announce:replies")
def review(request: Request, session: DbSession, user: ReplyModerator) -> HTMLResponse:
    """Replies collected from the networks that wait for a moderator: new and reported ones."""
    return _page(request, session, user)


@router.post("/moderation/replies/{reply_id}/approve", name="announce:reply_approve")
def approve(request: Request, session: DbSession, user: ReplyModerator, reply_id: int) -> Response:
    """Show the reply on its announcement's page (its reports dismissed)."""
    replies.approve(session, actor=user, reply=_moderated_reply(session, user, reply_id))
    session.commit()
    return flash(request, redirect(links.path("announce:replies")), N_("The reply is shown."), "success")


@router.post("/moderation/replies/{reply_id}/hide", name="announce:reply_hide")
def hide(request: Request, session: DbSession, user: ReplyModerator, reply_id: int, reason: Reason = "") -> Response:
    """Hide the reply everywhere."""
    replies.hide(session, actor=user, reply=_moderated_reply(session, user, reply_id), reason=reason.strip())
    session.commit()
    return flash(request, redirect(links.path("announce:replies")), N_("The reply is hidden."), "success")


@router.post("/moderation/replies/{reply_id}/answer", name="announce:reply_answer")
def answer(request: Request, session: DbSession, user: ReplyModerator, reply_id: int,
           answer: AnswerText = "") -> Response:
    """Answer the reply on its network, as the city (shown under it once the worker posted it)."""
    reply = _moderated_reply(session, user, reply_id)
    try:
        replies.answer(session, actor=user, reply=reply, text=answer)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, user, {reply_id: exc.errors["answer"]}, {reply_id: answer}, 422)
    session.commit()
    return flash(request, redirect(links.path("announce:replies")),
                 N_("The answer will be posted under the reply in a moment."), "success")


@router.post("/announcements/{announcement_id}/replies/{reply_id}/report", name="announce:reply_report")
def report(request: Request, session: DbSession, user: CurrentUser, announcement_id: int,
           reply_id: int) -> Response:
    """A citizen reports an approved reply: moderators look at it again."""
    reply = _reply(session, reply_id)
    post = session.get(Delivery, reply.delivery_id)
    if reply.status != ReplyStatus.approved or post is None or post.announcement_id != announcement_id:
        raise NotFound()
    reporter = authz.require_citizen(user, Action.report_create, reply)
    replies.report(session, reporter=reporter, reply=reply)
    session.commit()
    return flash(request, redirect(links.path("announce:detail", announcement_id=announcement_id)),
                 N_("Thank you: a moderator will look at this reply."), "success")
