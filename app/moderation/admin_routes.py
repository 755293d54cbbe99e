"""Administration pages of moderation: the audit log, the dialogue dashboard, people and
roles, and moderators assigned to each call."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_
from sqlmodel import col, select

from app import links
from app.account.models import Role, User
from app.assistant import figures as assistant_figures
from app.audit import AuditAction, TargetType
from app.authz import Action
from app.call import service as call_service
from app.call.models import Call
from app.deps import DbSession, allowed
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.moderation import admin_service, dialogue, queries
from app.params import parse_id
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

Short = Annotated[str, Form(max_length=100)]
AuditReader = Annotated[User, allowed(Action.admin_audit)]
DialogueReader = Annotated[User, allowed(Action.admin_dialogue)]
PeopleAdmin = Annotated[User, allowed(Action.admin_users)]


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@router.get("/audit", name="admin:audit")
def audit_page(request: Request, session: DbSession, _admin: AuditReader, action: str = "", target_type: str = "",
               target_id: str = "", actor: str = "", since: str = "", until: str = "", page: int = 1) -> HTMLResponse:
    filters = queries.AuditFilters(
        action=action if action in set(AuditAction) or action == "dismiss_reports" else "",
        target_type=target_type if target_type in set(TargetType) else "",
        target_id=parse_id(target_id), actor_id=parse_id(actor), system=actor == "system",
        since=_day(since[:10]), until=_day(until[:10]),
    )
    page = max(1, min(page, 10000))
    return render(request, "admin/audit.html", {
        "entries": queries.audit_log(session, filters, page), "filters": filters, "page": page,
        "page_size": queries.PAGE_SIZE, "actions": [*AuditAction, "dismiss_reports"], "target_types": list(TargetType),
        "staff": queries.staff(session),
    })


@router.get("/dialogue", name="admin:dialogue")
def dialogue_page(request: Request, session: DbSession, _admin: DialogueReader,
                  days: int = dialogue.WAITING_DAYS) -> HTMLResponse:
    days = max(1, min(days, 365))
    calls = session.exec(select(Call).order_by(col(Call.created_at).desc())).all()
    return render(request, "admin/dialogue.html", {
        "overall": dialogue.figures(session, waiting_days=days),
        "per_call": [(call, dialogue.figures(session, call.id, waiting_days=days)) for call in calls],
        "days": days, "assistant": assistant_figures.figures(session),
    })


@router.get("/dialogue.svg", name="admin:dialogue_chart")
def dialogue_chart(session: DbSession, _admin: DialogueReader, days: int = dialogue.WAITING_DAYS) -> Response:
    return dialogue.chart_response(dialogue.figures(session, waiting_days=max(1, min(days, 365))))


@router.get("/users", name="admin:users")
def users_page(request: Request, session: DbSession, _admin: PeopleAdmin, q: str = "", role: str = "",
               page: int = 1) -> HTMLResponse:
    query = select(User).where(col(User.deleted_at).is_(None))
    q = q.strip()[:100]
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(col(User.email).ilike(pattern), col(User.display_name).ilike(pattern)))
    if role in set(Role):
        query = query.where(User.role == role)
    page = max(1, min(page, 10000))
    people = session.exec(query.order_by(col(User.id)).offset((page - 1) * 50).limit(50)).all()
    return render(request, "admin/users.html", {"people": people, "q": q, "role": role, "roles": list(Role),
                                                "page": page})


@router.post("/users/{user_id}/role", name="admin:set_role")
def set_role(request: Request, session: DbSession, admin: PeopleAdmin, user_id: int, role: Short = "") -> Response:
    person = session.get(User, user_id)
    if person is None or person.deleted_at is not None:
        raise NotFound()
    try:
        admin_service.set_role(session, actor=admin, user=person, role=role)
    except ValidationFailed as exc:
        return flash(request, redirect(links.path("admin:users")), next(iter(exc.errors.values())), "error")
    except Conflict as exc:  # the last administrator: nothing changed
        return flash(request, redirect(links.path("admin:users")), exc.message, "error", **exc.context)
    session.commit()
    return flash(request, redirect(links.path("admin:users")), N_("The role of {name} is changed."), "success",
                 name=person.display_name)


@router.get("/calls/{call_id}/moderators", name="admin:call_moderators")
def call_moderators(request: Request, session: DbSession, _admin: PeopleAdmin, call_id: int) -> HTMLResponse:
    call = call_service.get_call(session, call_id)
    return render(request, "admin/call_moderators.html", {
        "call": call, "assigned": admin_service.assigned_moderators(session, call_id),
        "staff": queries.staff(session),
    })


@router.post("/calls/{call_id}/moderators", name="admin:assign_moderator")
def assign_moderator(request: Request, session: DbSession, admin: PeopleAdmin, call_id: int,
                     user_id: Short = "") -> Response:
    call = call_service.get_call(session, call_id)
    person_id = parse_id(user_id)
    person = session.get(User, person_id) if person_id else None
    try:
        admin_service.assign_moderator(session, actor=admin, call=call, user=person)
    except ValidationFailed as exc:
        return flash(request, redirect(links.path("admin:call_moderators", call_id=call_id)),
                     next(iter(exc.errors.values())), "error")
    session.commit()
    return flash(request, redirect(links.path("admin:call_moderators", call_id=call_id)),
                 N_("The moderator is assigned."), "success")


@router.post("/calls/{call_id}/moderators/{user_id}/remove", name="admin:unassign_moderator")
def unassign_moderator(request: Request, session: DbSession, admin: PeopleAdmin, call_id: int,
                       user_id: int) -> Response:
    call = call_service.get_call(session, call_id)
    admin_service.unassign_moderator(session, actor=admin, call=call, user_id=user_id)
    session.commit()
    return flash(request, redirect(links.path("admin:call_moderators", call_id=call_id)),
                 N_("The moderator is no longer assigned."), "success")
