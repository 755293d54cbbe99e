"""Calls for projects: creation and editing by administrators, their themes and the city's
districts. Services validate, write and flush; routes commit."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.call.models import Call, Category, District, Phase, VoteScope, VotingMode
from app.clock import utcnow
from app.db import get_or_not_found
from app.errors import NotFound, ValidationFailed
from app.i18n import LANGUAGES, N_
from app.idea.models import Idea
from app.locks import lock_call, share_call
from app.residents.models import Access
from app.richtext import render_markdown
from app.settings import Settings
from app.vote import limits as vote_limits
from app.vote import service as vote_service

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ACCESS_VALUES = frozenset(Access)
PHASE_FIELDS = ("submissions_start", "technical_review_start", "voting_start", "review_start", "results_start",
                "closes_at")
BUDGET_ONLY = N_("Only a participatory budget has a technical review phase: choose the participatory budget as the "
                 "voting mode, or leave this empty.")


@dataclass
class CallInput:
    slug: str
    title: str
    summary: str = ""
    description_md: str = ""
    submissions_start: datetime | None = None
    technical_review_start: datetime | None = None  # participatory budgets only
    voting_start: datetime | None = None
    review_start: datetime | None = None
    results_start: datetime | None = None
    closes_at: datetime | None = None
    phase_override: str = ""
    ideas_per_citizen: int = 5
    premoderation: bool = False
    votes_per_citizen: int = 10
    vote_scope: str = VoteScope.call
    voting_during_submissions: bool = False
    comments_during_submissions: bool = True
    comments_during_voting: bool = True
    report_threshold: int = 3
    submit_access: str = "email"  # app.residents.models.Access
    vote_access: str = "email"
    # The language the title, summary and description are written in (app.contentlang); its
    # themes take it when they are added.
    original_language: str = "fr"
    # How citizens vote (app.call.models.VotingMode): only checked here (a technical review
    # phase is a participatory budget's); app.budget.rules.save_budget sets it.
    voting_mode: str = VotingMode.supports


def slugify(text: str) -> str:
    """An address part made of a title: lowercase ASCII letters, digits and hyphens, at most 80 characters
    (French accents folded)."""
    table = str.maketrans("àâäáãçéèêëíìîïñóòôöõúùûüýÿœæ", "aaaaaceeeeiiiinooooouuuuyyoa")
    text = text.lower().translate(table)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80]


def validate_call(session: Session, data: CallInput, call_id: int | None) -> dict[str, str]:
    """The errors of a call form as {field: msgid} (empty when valid); also normalises `data` in place
    (slug lowercased, title and summary trimmed). `call_id` is the call being edited, so that its
    own slug is not a clash."""
    errors: dict[str, str] = {}
    data.slug = data.slug.strip().lower()
    data.title = " ".join(data.title.split())
    data.summary = data.summary.strip()
    if not SLUG_RE.match(data.slug) or len(data.slug) > 80:
        errors["slug"] = N_("Use lowercase letters, digits and hyphens only (at most 80).")
    else:
        other = session.exec(select(Call).where(Call.slug == data.slug)).first()
        if other is not None and other.id != call_id:
            errors["slug"] = N_("Another call already uses this address.")
    if not 3 <= len(data.title) <= 160:
        errors["title"] = N_("The title must be between 3 and 160 characters.")
    if len(data.summary) > 500:
        errors["summary"] = N_("The summary must be at most 500 characters.")
    if len(data.description_md) > 50_000:
        errors["description_md"] = N_("The description is too long.")
    previous: datetime | None = None
    for name in PHASE_FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        if previous is not None and value < previous:
            errors[name] = N_("Phase dates must follow each other in order.")
        previous = value
    if data.phase_override and data.phase_override not in set(Phase):
        errors["phase_override"] = N_("Choose a phase from the list.")
    if data.voting_mode != VotingMode.budget:
        if data.technical_review_start is not None:
            errors["technical_review_start"] = BUDGET_ONLY
        if data.phase_override == Phase.technical_review:
            errors["phase_override"] = BUDGET_ONLY
    for name, low, high in (("ideas_per_citizen", 1, 1000), ("votes_per_citizen", 1, 1000),
                            ("report_threshold", 1, 1000)):
        if not low <= getattr(data, name) <= high:
            errors[name] = N_("Enter a whole number between 1 and 1000.")
    if data.vote_scope not in set(VoteScope):
        errors["vote_scope"] = N_("Choose from the list where the support limit applies.")
    for name in ("submit_access", "vote_access"):
        if getattr(data, name) not in ACCESS_VALUES:
            errors[name] = N_("Choose who may take part from the list.")
    if data.original_language not in LANGUAGES:
        errors["original_language"] = N_("Choose a language from the list.")
    elif call_id is not None:
        current = session.get(Call, call_id)
        if current is not None and data.original_language in (current.translations or {}):
            # Its translation would become the original's twin: the staff decide which text stays.
            errors["original_language"] = N_("This call has a translation in this language: empty it in the "
                                             "translation editor first, or keep the original language.")
    return errors


def _apply(call: Call, data: CallInput) -> None:
    call.slug = data.slug
    call.title = data.title
    call.summary = data.summary
    call.description_md = data.description_md
    call.description_html = render_markdown(data.description_md)
    for name in PHASE_FIELDS:
        setattr(call, name, getattr(data, name))
    call.phase_override = data.phase_override or None
    call.ideas_per_citizen = data.ideas_per_citizen
    call.premoderation = data.premoderation
    call.votes_per_citizen = data.votes_per_citizen
    call.vote_scope = data.vote_scope
    call.voting_during_submissions = data.voting_during_submissions
    call.comments_during_submissions = data.comments_during_submissions
    call.comments_during_voting = data.comments_during_voting
    call.report_threshold = data.report_threshold
    call.submit_access = data.submit_access
    call.vote_access = data.vote_access
    call.original_language = data.original_language
    call.updated_at = utcnow()


def create_call(session: Session, *, data: CallInput, cover_id: int | None = None) -> Call:
    """Add a call from an administrator's form and return it with its id. Raises ValidationFailed with the
    fields of validate_call."""
    errors = validate_call(session, data, None)
    if errors:
        raise ValidationFailed(errors)
    call = Call(slug=data.slug, title=data.title)
    _apply(call, data)
    call.cover_id = cover_id
    session.add(call)
    session.flush()
    return call


LIMIT_BELOW_HELD = N_("Some people already hold more supports than these rules allow. Keep a higher limit, or "
                      "the way supports are counted, so that nobody holds more than the call allows.")


def update_call(session: Session, call: Call, *, data: CallInput, cover_id: int | None = None,
                remove_cover: bool = False) -> Call:
    """Apply an administrator's form to `call`; a new `cover_id` replaces the cover, `remove_cover` removes
    it. Raises ValidationFailed with the fields of validate_call, or with "votes_per_citizen" when
    someone already holds more supports than the new limit or way of counting allows (supports
    given under the old rules are never taken back: the rules may be relaxed, not tightened
    below what people hold). The call is locked first, so no support slips in meanwhile."""
    errors = validate_call(session, data, call.id)
    if errors:
        raise ValidationFailed(errors)
    assert call.id is not None
    if data.votes_per_citizen < call.votes_per_citizen or data.vote_scope != call.vote_scope:
        lock_call(session, call.id)
        session.refresh(call)
        if vote_service.most_held(session, call=call, vote_scope=data.vote_scope) > data.votes_per_citizen:
            raise ValidationFailed({"votes_per_citizen": LIMIT_BELOW_HELD})
    _apply(call, data)
    if cover_id is not None:
        call.cover_id = cover_id
    elif remove_cover:
        call.cover_id = None
    session.add(call)
    session.flush()
    return call


def _clean_name(name: str, slug: str) -> tuple[str, str, dict[str, str]]:
    name = " ".join(name.split())
    slug = slug.strip().lower() or slugify(name)
    errors: dict[str, str] = {}
    if not 2 <= len(name) <= 120:
        errors["name"] = N_("The name must be between 2 and 120 characters.")
    if not SLUG_RE.match(slug) or len(slug) > 80:
        errors["slug"] = N_("Use lowercase letters, digits and hyphens only (at most 80).")
    return name, slug, errors


def save_category(session: Session, call: Call, *, name: str, slug: str = "", description: str = "",
                  position: int = 0, category: Category | None = None) -> Category:
    """Create (category None) or update a theme of `call`. Raises ValidationFailed with `name`, `slug`
    (invalid or used by another theme of the call) or `description` (over 500 characters)."""
    name, slug, errors = _clean_name(name, slug)
    description = description.strip()
    if len(description) > 500:
        errors["description"] = N_("The description must be at most 500 characters.")
    clash = session.exec(select(Category).where(Category.call_id == call.id, Category.slug == slug)).first()
    if clash is not None and (category is None or clash.id != category.id):
        errors.setdefault("slug", N_("Another theme of this call already uses this address."))
    if errors:
        raise ValidationFailed(errors)
    if category is None:
        assert call.id is not None
        category = Category(call_id=call.id, slug=slug, name=name, original_language=call.original_language)
    category.slug, category.name, category.description, category.position = slug, name, description, position
    session.add(category)
    session.flush()
    return category


def delete_category(session: Session, settings: Settings, category: Category) -> None:
    """Delete a theme; its ideas stay in the call without a theme (the foreign key is SET NULL).
    When the call counts supports per theme, their supports join those of the ideas without a
    theme: a supporter with no place left there has the support set aside and is told
    (app.vote.limits)."""
    idea_ids = [i for i in session.exec(select(Idea.id).where(Idea.category_id == category.id)).all()
                if i is not None]
    vote_limits.lock_supporters(session, idea_ids)
    share_call(session, category.call_id)
    call = session.get(Call, category.call_id)
    assert call is not None
    session.delete(category)
    session.flush()
    session.expire_all()  # the ideas and supports of the theme lost it in the database (SET NULL)
    vote_limits.keep_within_limits(session, settings, call=call, idea_ids=idea_ids, why=vote_limits.THEME_REMOVED)


def save_district(session: Session, *, name: str, slug: str = "", position: int = 0,
                  district: District | None = None) -> District:
    """Create (district None) or update a district, shared by every call. Raises ValidationFailed with
    `name` or `slug` (invalid or used by another district)."""
    name, slug, errors = _clean_name(name, slug)
    clash = session.exec(select(District).where(District.slug == slug)).first()
    if clash is not None and (district is None or clash.id != district.id):
        errors.setdefault("slug", N_("Another district already uses this address."))
    if errors:
        raise ValidationFailed(errors)
    if district is None:
        district = District(slug=slug, name=name)
    district.slug, district.name, district.position = slug, name, position
    session.add(district)
    session.flush()
    return district


def delete_district(session: Session, district: District) -> None:
    """Delete a district; ideas placed in it keep existing without a district."""
    session.delete(district)
    session.flush()


def get_call(session: Session, call_id: int) -> Call:
    """The call `call_id`, whatever its phase (for staff pages). Raises NotFound."""
    return get_or_not_found(session, Call, call_id)


def get_category(session: Session, call: Call, category_id: int) -> Category:
    """The theme `category_id` of `call`. Raises NotFound when it does not exist or belongs to another
    call."""
    category = session.get(Category, category_id)
    if category is None or category.call_id != call.id:
        raise NotFound()
    return category


def get_district(session: Session, district_id: int) -> District:
    """The district `district_id`. Raises NotFound."""
    return get_or_not_found(session, District, district_id)


def categories_of(session: Session, call_id: int) -> list[Category]:
    """The themes of call `call_id` in their display order (position, then name)."""
    return list(session.exec(select(Category).where(Category.call_id == call_id)
                             .order_by(col(Category.position), col(Category.name))))


def all_districts(session: Session) -> list[District]:
    """Every district in display order (position, then name)."""
    return list(session.exec(select(District).order_by(col(District.position), col(District.name))))
