"""The administrators' page of verified-resident rules: per OpenID Connect provider, the postal
codes of the city and a minimum age (app.residents.service)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import links
from app.deps import AdminUser, AppSettings, DbSession
from app.errors import ValidationFailed
from app.i18n import N_
from app.residents import service
from app.settings import Settings
from app.web import flash, redirect, render

router = APIRouter(prefix="/admin/residents", tags=["admin"], include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]
Codes = Annotated[str, Form(max_length=10_000)]
Flag = Annotated[str, Form(max_length=10)]


def _page(request: Request, session: Session, settings: Settings, *, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, editing: int | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "residents/rules.html", {
        "rules": service.rules(session), "counts": service.verifications_by_rule(session),
        "providers": [(p.key, p.name) for p in settings.oidc_providers],
        "provider_names": {p.key: p.name for p in settings.oidc_providers},
        "values": values or {"postal_code_claim": "address.postal_code", "birthdate_claim": "birthdate"},
        "errors": errors or {}, "editing": editing,
    }, status_code=status_code)


@router.get("", name="residents:rules")
def rules(request: Request, session: DbSession, settings: AppSettings, _admin: AdminUser) -> HTMLResponse:
    """The rules, each editable, and a form to add one."""
    return _page(request, session, settings)


@router.post("", name="residents:rule_add")
def add_rule(request: Request, session: DbSession, settings: AppSettings, admin: AdminUser,
             provider_key: Text = "", postal_code_claim: Text = "", postal_codes: Codes = "",
             birthdate_claim: Text = "", min_age: Text = "") -> Response:
    """Add a rule; the page again with the errors (422) when the input is bad."""
    data = service.RuleInput(provider_key=provider_key, postal_code_claim=postal_code_claim,
                             postal_codes=postal_codes, birthdate_claim=birthdate_claim, min_age=min_age)
    try:
        service.save_rule(session, settings, actor=admin, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, settings, values=vars(data), errors=exc.errors, status_code=422)
    session.commit()
    return flash(request, redirect(links.path("residents:rules")), N_("The rule is saved."), "success")


@router.post("/{rule_id}", name="residents:rule_edit")
def edit_rule(request: Request, session: DbSession, settings: AppSettings, admin: AdminUser, rule_id: int,
              provider_key: Text = "", postal_code_claim: Text = "", postal_codes: Codes = "",
              birthdate_claim: Text = "", min_age: Text = "", delete: Flag = "") -> Response:
    """Change a rule, or delete it (its verifications go with it)."""
    rule = service.get_rule(session, rule_id)
    back = links.path("residents:rules")
    if delete == "1":
        withdrawn = service.delete_rule(session, actor=admin, rule=rule)
        session.commit()
        return flash(request, redirect(back), N_("The rule is deleted. Verifications withdrawn with it: {count}."),
                     "info", count=withdrawn)
    data = service.RuleInput(provider_key=provider_key, postal_code_claim=postal_code_claim,
                             postal_codes=postal_codes, birthdate_claim=birthdate_claim, min_age=min_age)
    try:
        service.save_rule(session, settings, actor=admin, data=data, rule=rule)
    except ValidationFailed as exc:
        session.rollback()
        errors = {f"rule_{rule_id}_{k}": v for k, v in exc.errors.items()}
        return _page(request, session, settings, errors=errors, editing=rule_id, status_code=422)
    session.commit()
    return flash(request, redirect(back), N_("The rule is saved."), "success")
