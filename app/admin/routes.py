"""The administration landing page: a list of sections. Each domain appends its own entry to
`SECTIONS` (route name, title msgid, description msgid, the Action needed to see it)."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import authz
from app.announce import channel_accounts
from app.authz import Action
from app.deps import AdminUser, DbSession
from app.i18n import N_
from app.web import render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)


@dataclass(frozen=True)
class Section:
    route: str
    title: str
    description: str
    action: Action = Action.admin_access


SECTIONS: list[Section] = [
    Section("admin:calls", N_("Calls for projects"),
            N_("Create and edit calls, their phases, rules and themes.")),
    Section("admin:districts", N_("Districts"), N_("The city's districts, shared by every call.")),
    # Other domains add their sections below (users and roles, audit log, channels...).
    Section("residents:rules", N_("Verified residents"),
            N_("Which sign-in providers verify residents: the city's postal codes, a minimum age.")),
    Section("admin:users", N_("People and roles"), N_("Find accounts, change roles, suspend or reactivate.")),
    Section("admin:audit", N_("Audit log"), N_("Every decision by moderators and administrators, with its reason.")),
    Section("admin:dialogue", N_("Dialogue dashboard"),
            N_("How well the city answers: answered ideas, delays, late answers, replies in discussions.")),
    Section("council:platform", N_("Figures for the council"),
            N_("The participation report of each call and of the platform, its spreadsheets and the council pack."),
            Action.council_report),
    Section("admin:legal_pages", N_("Legal pages"),
            N_("Privacy notice, terms of use and moderation charter, accessibility statement, contact; in every "
               "language."), Action.legal_pages_edit),
    Section("admin:identity", N_("The city's identity"),
            N_("Platform and city names, logo, brand colours, footer links, contact address and social networks."),
            Action.identity_edit),
    Section("announce:channels", N_("Channels"),
            N_("Where announcements are published: Mastodon, Bluesky, Facebook, X, the newsletter, webhooks."),
            Action.channel_manage),
    Section("assistant:entries", N_("The assistant's answers"),
            N_("Questions people ask often and the city's answer, in each language; questions for a person."),
            Action.assistant_knowledge),
    Section("announce:deliveries", N_("Deliveries"),
            N_("Each announcement on each channel: sent, waiting, failed; retry or cancel."), Action.delivery_manage),
    Section("maps:admin", N_("Maps"),
            N_("Named places offered in idea forms, and the districts' outlines imported from GeoJSON."),
            Action.map_manage),
]


@router.get("", name="admin:index")
def admin_index(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    """The sections an administrator may open, and what needs them now (a channel whose
    credentials the network refused)."""
    sections = [s for s in SECTIONS if authz.can(user, s.action)]
    return render(request, "admin/index.html", {
        "sections": sections, "attention": channel_accounts.needing_attention(session)})
