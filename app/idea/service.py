"""Ideas: writing, submitting, editing and withdrawing them, with their photos, their status
history and the versions of their wording (app.idea.versions). Services validate, write and
flush; routes check permissions and commit."""

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import contentlang, posting_policy
from app.account.models import User
from app.budget import ballot as budget_ballot
from app.call.models import Call, Category, District
from app.clock import utcnow
from app.db import get_or_not_found
from app.errors import InvalidTransition, NotFound, ValidationFailed
from app.follow import service as follow_service
from app.i18n import N_
from app.idea import versions
from app.idea.models import Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange
from app.locks import lock_user, share_call
from app.media import service as media_service
from app.media.models import MediaFile
from app.notify import service as notify
from app.richtext import render_markdown
from app.search.queue import reindex_later
from app.settings import LANGUAGES, PHOTOS_PER_IDEA, Settings
from app.vote import limits as vote_limits

TITLE_MIN, TITLE_MAX = 5, 120
BODY_MAX = 10_000
ALT_MAX = 300
MAX_PHOTOS = PHOTOS_PER_IDEA
# Ideas that do not count towards the per-citizen limit of a call.
UNCOUNTED = (IdeaStatus.withdrawn,)


@dataclass
class IdeaInput:
    title: str
    body_md: str = ""
    category_id: int | None = None
    district_id: int | None = None
    # The language the author says they wrote in ("" when not declared: detected, app.contentlang).
    language: str = ""


@dataclass
class PhotoInput:
    data: bytes
    alt_text: str
    field: str  # the form field to attach an error to


@dataclass
class PhotoChanges:
    new: list[PhotoInput] = field(default_factory=list)
    alt_texts: dict[int, str] = field(default_factory=dict)  # IdeaPhoto.id -> alt text
    remove: set[int] = field(default_factory=set)
    # Sizes of the new photos counted towards the daily quota (set by the service): if the
    # form is refused after they were decoded, the route counts them again after its rollback.
    charged: list[int] = field(default_factory=list)


def _validate(session: Session, call: Call, data: IdeaInput, *, complete: bool) -> dict[str, str]:
    """`complete` is for submission: a draft may lack a body or a theme, never a title."""
    errors: dict[str, str] = {}
    data.title = " ".join(data.title.split())
    data.body_md = data.body_md.replace("\r\n", "\n").strip()
    if not TITLE_MIN <= len(data.title) <= TITLE_MAX:
        errors["title"] = N_("The title must be between 5 and 120 characters.")
    if len(data.body_md) > BODY_MAX:
        errors["body_md"] = N_("The description must be at most 10,000 characters.")
    elif complete and len(data.body_md) < 20:
        errors["body_md"] = N_("Please describe your idea in at least 20 characters.")
    if data.category_id is not None:
        category = session.get(Category, data.category_id)
        if category is None or category.call_id != call.id:
            errors["category_id"] = N_("Choose a theme from the list.")
    elif complete and session.exec(select(Category.id).where(Category.call_id == call.id)).first():
        errors["category_id"] = N_("Choose a theme for your idea.")
    if data.district_id is not None and session.get(District, data.district_id) is None:
        errors["district_id"] = N_("Choose a district from the list.")
    if data.language and data.language not in LANGUAGES:
        errors["language"] = N_("Choose a language from the list.")
    return errors


def validate_input(session: Session, call: Call, data: IdeaInput) -> dict[str, str]:
    """The checks of a submitted idea's wording, theme and district in `call` (normalises
    `data`'s title and body in place): field name -> English msgid, empty when all is well.
    For ideas entered by staff on a resident's behalf (app.intake)."""
    return _validate(session, call, data, complete=True)


def _validate_alts(changes: PhotoChanges, existing: int, errors: dict[str, str]) -> None:
    for photo in changes.new:
        photo.alt_text = " ".join(photo.alt_text.split())
        if not photo.alt_text:
            errors[f"alt_{photo.field}"] = N_("Describe the photo for people who cannot see it.")
        elif len(photo.alt_text) > ALT_MAX:
            errors[f"alt_{photo.field}"] = N_("The description of the photo must be at most 300 characters.")
    for photo_id, alt in list(changes.alt_texts.items()):
        changes.alt_texts[photo_id] = alt = " ".join(alt.split())
        if photo_id not in changes.remove and not 1 <= len(alt) <= ALT_MAX:
            errors[f"alt_existing_{photo_id}"] = N_("Describe the photo for people who cannot see it.")
    if existing - len(changes.remove) + len(changes.new) > MAX_PHOTOS:
        errors["photos"] = N_("An idea can have at most 4 photos.")


def record_change(session: Session, idea: Idea, actor: User | None, to_status: str, note: str = "") -> None:
    """Move the idea to `to_status` and keep the change in its public history."""
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=actor.id if actor else None,
                                 from_status=idea.status if idea.id else None, to_status=to_status, note=note))
    idea.status = to_status
    idea.updated_at = utcnow()
    session.add(idea)
    reindex_later(session, idea.id)


def ideas_counted(session: Session, call: Call, author: User) -> int:
    """How many ideas `author` has in `call` that count against the call's ideas-per-person limit: all
    but withdrawn ones, drafts included."""
    return int(session.exec(
        select(func.count()).select_from(Idea).where(
            Idea.call_id == call.id, Idea.author_id == author.id, col(Idea.status).notin_(UNCOUNTED))
    ).one())


def _lock_author(session: Session, author: User) -> None:
    """Serialise one person's submissions so that parallel requests cannot pass the limit.

    The kernel's person lock (FOR NO KEY UPDATE on PostgreSQL; SQLite write transactions are
    already serial): a plain FOR UPDATE would also wait on the references to the person that
    the request's own form claim holds (app.submission), so two of the person's forms sent
    together would wait on each other."""
    assert author.id is not None
    lock_user(session, author.id)


def _store_photos(session: Session, settings: Settings, idea: Idea, author: User,
                  photos: list[PhotoInput], start: int) -> None:
    errors: dict[str, str] = {}
    assert idea.id is not None
    for offset, photo in enumerate(photos):
        try:
            media = media_service.store_image(session, settings, data=photo.data, owner_id=author.id,
                                              field=photo.field)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            continue
        assert media.id is not None
        session.add(IdeaPhoto(idea_id=idea.id, media_id=media.id, alt_text=photo.alt_text,
                              position=start + offset))
    if errors:
        raise ValidationFailed(errors)


def _charge(session: Session, settings: Settings, author: User, photos: PhotoChanges) -> None:
    """Count the new photos towards the author's daily quota before any is decoded (raises
    RateLimited past it)."""
    sizes = [len(photo.data) for photo in photos.new]
    media_service.charge_uploads(session, settings, author, sizes)
    photos.charged = sizes


def _publish_or_queue(session: Session, call: Call, idea: Idea, actor: User) -> None:
    now = utcnow()
    idea.submitted_at = now
    # Rate limit (raises), and a new account posting links waits for a moderator.
    held = posting_policy.check_posting(session, actor, f"{idea.title}\n{idea.body_md}", "idea")
    if held and not call.premoderation:
        posting_policy.hold_idea(session, idea=idea)
    if call.premoderation or held:
        record_change(session, idea, actor, IdeaStatus.submitted)
    else:
        idea.published_at = idea.published_at or now
        record_change(session, idea, actor, IdeaStatus.published)


def create_idea(session: Session, settings: Settings, call: Call, author: User, *, data: IdeaInput,
                photos: PhotoChanges | None = None, submit: bool) -> Idea:
    """A new idea, kept as a draft or submitted at once (published, or queued for moderation
    when the call is pre-moderated). Raises ValidationFailed (bad input, the call's limit of
    ideas per person, a refused photo) or RateLimited (posting too fast, the daily photo quota:
    app.media.service.charge_uploads, checked before any photo is decoded)."""
    photos = photos or PhotoChanges()
    errors = _validate(session, call, data, complete=submit)
    _validate_alts(photos, 0, errors)
    _lock_author(session, author)
    if ideas_counted(session, call, author) >= call.ideas_per_citizen:
        errors["form"] = N_("You have reached the number of ideas allowed per person for this call.")
    if errors:
        raise ValidationFailed(errors)
    _charge(session, settings, author, photos)
    assert call.id is not None
    idea = Idea(call_id=call.id, author_id=author.id, title=data.title, body_md=data.body_md,
                body_html=render_markdown(data.body_md), category_id=data.category_id,
                district_id=data.district_id, status=IdeaStatus.draft,
                language=contentlang.declared_or_detected(data.language, f"{data.title}\n{data.body_md}"))
    session.add(idea)
    session.flush()
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=author.id, from_status=None, to_status=IdeaStatus.draft))
    _store_photos(session, settings, idea, author, photos.new, 0)
    if author.id is not None:  # authors hear what happens to their idea
        follow_service.follow(session, idea_id=idea.id, user_id=author.id)
    if submit:
        _publish_or_queue(session, call, idea, author)
    session.flush()
    return idea


def photos_of(session: Session, idea_id: int) -> list[IdeaPhoto]:
    """The photos of idea `idea_id` in display order."""
    return list(session.exec(select(IdeaPhoto).where(IdeaPhoto.idea_id == idea_id)
                             .order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))))


def update_idea(session: Session, settings: Settings, call: Call, idea: Idea, author: User, *,
                data: IdeaInput, photos: PhotoChanges | None = None, submit: bool = False) -> Idea:
    """The author's edit. `submit` also submits a draft (or an idea sent back for changes).
    Raises ValidationFailed or RateLimited (new photos past the daily quota), as `create_idea`.

    Past its draft, an edit that changes the title, text, theme or district is kept as a version
    (app.idea.versions), and the idea's supporters and followers who may still see it are told.
    A new theme takes the idea's supports with it, under the new theme's limit when the call
    counts supports per theme: supporters who had no place left there have their support set
    aside and are told (app.vote.limits)."""
    photos = photos or PhotoChanges()
    assert idea.id is not None
    moves = data.category_id != idea.category_id
    # A participatory budget split by district or theme: ballots holding the idea may now spend
    # another budget (app.budget.ballot.recheck).
    changes_budget = moves or data.district_id != idea.district_id
    if changes_budget or submit:
        _lock_supporters(session, call, idea, author)
    complete = submit or idea.status != IdeaStatus.draft
    errors = _validate(session, call, data, complete=complete)
    existing = photos_of(session, idea.id)
    known = {p.id for p in existing}
    photos.remove &= {i for i in known if i is not None}
    photos.alt_texts = {k: v for k, v in photos.alt_texts.items() if k in known}
    _validate_alts(photos, len(existing), errors)
    if errors:
        raise ValidationFailed(errors)
    _charge(session, settings, author, photos)
    before = versions.Wording.of(idea)
    idea.title, idea.body_md = data.title, data.body_md
    idea.body_html = render_markdown(data.body_md)
    idea.category_id, idea.district_id = data.category_id, data.district_id
    idea.language = contentlang.declared_or_detected(data.language, f"{data.title}\n{data.body_md}")
    idea.updated_at = utcnow()
    session.add(idea)
    reindex_later(session, idea.id)
    version = versions.record_edit(session, idea, before, author)
    if idea.status == IdeaStatus.published and posting_policy.must_hold(author, f"{idea.title}\n{idea.body_md}"):
        # A new account adding a link to a public idea: back to the moderators first.
        posting_policy.hold_idea(session, idea=idea)
        record_change(session, idea, author, IdeaStatus.submitted)
    position = 0
    for photo in existing:
        if photo.id in photos.remove:
            # The file goes too (once the transaction commits): nothing else uses it.
            media = session.get(MediaFile, photo.media_id)
            session.delete(photo)
            session.flush()
            if media is not None:
                media_service.delete_media(session, settings, media)
            continue
        if photo.id in photos.alt_texts:
            photo.alt_text = photos.alt_texts[photo.id]
        photo.position = position
        position += 1
        session.add(photo)
    session.flush()
    _store_photos(session, settings, idea, author, photos.new, position)
    if moves:
        vote_limits.keep_within_limits(session, settings, call=call, idea_ids=[idea.id], why=vote_limits.MOVED)
    if changes_budget:
        budget_ballot.recheck(session, settings, call=call, idea_ids=[idea.id])
    if submit:
        submit_idea(session, call, idea, author, settings=settings)
    # Supporters and followers saw the published wording: they are told now if the idea stays
    # public, else when a moderator lets the held edit through (app.notify.service.tell_edits).
    if version is not None and versions.is_public(version):
        notify.tell_edits(session, settings, idea=idea)
    session.flush()
    return idea


def _lock_supporters(session: Session, call: Call, idea: Idea, author: User) -> None:
    """Before an edit or a submission that may bring the idea's supports into a count (or into
    another theme's), or its place in ballots into another budget: its supporters, the people
    whose ballot holds it and its author, then the call's rules (app.locks order)."""
    assert idea.id is not None and author.id is not None and call.id is not None
    vote_limits.lock_supporters(session, [idea.id], also=[author.id, *budget_ballot.holders(session, [idea.id])])
    share_call(session, call.id)


def submit_idea(session: Session, call: Call, idea: Idea, author: User, *, settings: Settings) -> Idea:
    """Submit a draft (or an idea returned for changes): published at once, or queued for moderation when
    the call is pre-moderated or the posting policy holds it. Raises InvalidTransition for any other
    status, ValidationFailed when the idea is incomplete, RateLimited from the posting policy.

    An idea sent back for changes after it was published may hold supports: published again, they
    count again, within each supporter's limit (app.vote.limits)."""
    if idea.status not in (IdeaStatus.draft, IdeaStatus.changes_requested):
        raise InvalidTransition()
    assert idea.id is not None
    _lock_supporters(session, call, idea, author)
    data = IdeaInput(title=idea.title, body_md=idea.body_md, category_id=idea.category_id,
                     district_id=idea.district_id)
    errors = _validate(session, call, data, complete=True)
    if errors:
        raise ValidationFailed(errors)
    _publish_or_queue(session, call, idea, author)
    session.flush()
    if idea.status == IdeaStatus.published:
        vote_limits.keep_within_limits(session, settings, call=call, idea_ids=[idea.id], why=vote_limits.CAME_BACK)
        budget_ballot.recheck(session, settings, call=call, idea_ids=[idea.id])
    notify.tell_edits(session, settings, idea=idea)  # an earlier edit held back, public again
    return idea


def withdraw_idea(session: Session, idea: Idea, author: User) -> Idea:
    """The author takes the idea back; recorded in its public history. Raises InvalidTransition when it is
    already withdrawn, rejected or merged."""
    if idea.status in (IdeaStatus.withdrawn, IdeaStatus.rejected, IdeaStatus.merged):
        raise InvalidTransition()
    record_change(session, idea, author, IdeaStatus.withdrawn)
    session.flush()
    return idea


def get_idea(session: Session, idea_id: int) -> Idea:
    """The idea `idea_id` whatever its status (callers check who may see it). Raises NotFound."""
    return get_or_not_found(session, Idea, idea_id)


def photo_media(session: Session, idea: Idea, photo_id: int) -> MediaFile:
    """The stored image of photo `photo_id` of `idea`. Raises NotFound when the photo belongs to another
    idea or its file record is gone."""
    photo = session.get(IdeaPhoto, photo_id)
    if photo is None or photo.idea_id != idea.id:
        raise NotFound()
    return get_or_not_found(session, MediaFile, photo.media_id)
