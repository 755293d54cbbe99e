"""Moderator pages about people: a person's page with their ideas and history, suspending
an account (in two steps) and lifting a suspension."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import authz, links
from app.account.models import User
from app.audit import TargetType
from app.authz import Action
from app.deps import DbSession, ModeratorUser
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.moderation import bans, queries
from app.moderation.fields import Short, Text
from app.web import flash, redirect, render

router = APIRouter(prefix="/moderation", tags=["moderation"], include_in_schema=False)




def _person(session: Session, user_id: int) -> User:
    person = session.get(User, user_id)
    if person is None or person.deleted_at is not None:
        raise NotFound()
    return person


def _person_page(request: Request, session: Session, person: User, errors: dict[str, str] | None = None,
                 values: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    assert person.id is not None
    ideas = queries.ideas_of_person(session, person.id)
    return render(request, "moderation/user.html", {
        "person": person, "ideas": ideas, "audit": queries.entries_for(session, TargetType.user, person.id),
        "errors": errors or {}, "values": values or {},
    }, status_code=status_code)


@router.get("/users/{user_id}", name="moderation:user")
def user_page(request: Request, session: DbSession, _moderator: ModeratorUser, user_id: int) -> HTMLResponse:
    person = _person(session, user_id)
    return _person_page(request, session, person)


@router.post("/users/{user_id}/ban", name="moderation:ban")
def ban(request: Request, session: DbSession, user: ModeratorUser, user_id: int, reason: Text = "",
        hide_content: Short = "", confirm: Short = "") -> Response:
    """Suspend an account in two steps: the form on the person's page leads to a confirmation
    page naming what the suspension does (sessions ended, the ideas and comments hidden when
    asked, the e-mail with the reason); only that page's button (`confirm=yes`) suspends."""
    person = _person(session, user_id)
    authz.require(user, Action.user_ban, person)
    if confirm != "yes":
        try:
            cleaned = bans.check_reason(reason)
        except ValidationFailed as exc:
            return _person_page(request, session, person, exc.errors, {"reason": reason}, status_code=422)
        return render(request, "moderation/ban_confirm.html", {
            "person": person, "reason": cleaned, "hide_content": bool(hide_content),
            "consequences": bans.consequences(session, person)})
    try:
        bans.ban_user(session, actor=user, user=person, reason=reason, hide_content=bool(hide_content))
    except ValidationFailed as exc:
        session.rollback()
        return _person_page(request, session, person, exc.errors, {"reason": reason}, status_code=422)
    except Conflict as exc:  # already suspended, or the last administrator: nothing changed
        session.rollback()
        return flash(request, redirect(links.path("moderation:user", user_id=user_id)), exc.message, "error",
                     **exc.context)
    session.commit()
    return flash(request, redirect(links.path("moderation:user", user_id=user_id)),
                 N_("The account of {name} is suspended."), "success", name=person.display_name)


@router.post("/users/{user_id}/unban", name="moderation:unban")
def unban(request: Request, session: DbSession, user: ModeratorUser, user_id: int, reason: Text = "") -> Response:
    person = _person(session, user_id)
    authz.require(user, Action.user_ban, person)
    bans.unban_user(session, actor=user, user=person, reason=reason)
    session.commit()
    return flash(request, redirect(links.path("moderation:user", user_id=user_id)),
                 N_("The account of {name} is active again."), "success", name=person.display_name)
