"""What the ideas domain keeps about a person: the ideas they wrote (with their photos and the
versions of their wording), the status changes and the edits they made. At deletion, drafts go,
since nobody else ever saw them, and so does every photo the person sent (a photo may show
them, their home or their street: issue 13 asks that no photo file remains); what was sent or
published stays without its author's name and without its photos, and so do the versions of its
wording (its public history keeps what the idea said when people supported it), which lose
their editor."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.call.models import Call, Category, District
from app.idea.models import Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange, IdeaVersion
from app.maps.models import IdeaLocation
from app.media import service as media_service
from app.media.models import MediaFile
from app.personal_data import Holding, when
from app.search.queue import reindex_later
from app.settings import Settings


def idea_ref(session: Session, *, user: User, base_url: str, idea_id: int | None) -> dict[str, Any] | None:
    """An idea the person interacted with (voted, followed, commented, reported), for their
    export: {"id", "title", "url"}, with the title and link only if they may still see it, or
    {"id", "title": None} if it no longer exists; None without an idea."""
    if idea_id is None:
        return None
    idea = session.get(Idea, idea_id)
    if idea is None:
        return {"id": idea_id, "title": None}
    visible = authz.can(user, Action.idea_view, idea)
    return {"id": idea_id, "title": idea.title if visible else None,
            "url": base_url + links.idea_path(idea_id) if visible else None}


def export_ideas(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every idea `user` wrote, drafts and hidden ones included, with their photos' links and
    the versions of their wording (see `_versions`)."""
    calls = {c.id: c.title for c in session.exec(select(Call)).all()}
    ideas = session.exec(select(Idea).where(Idea.author_id == user.id).order_by(col(Idea.id))).all()
    photos: dict[int, list[IdeaPhoto]] = {}
    versions: dict[int, list[dict[str, Any]]] = {}
    located: dict[int, dict[str, Any]] = {}
    if ideas:
        ids = [i.id for i in ideas]
        for photo in session.exec(select(IdeaPhoto).where(col(IdeaPhoto.idea_id).in_(ids))
                                  .order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))).all():
            photos.setdefault(photo.idea_id, []).append(photo)
        versions = _versions(session, ids)
        # Where the author said each idea is (app.maps).
        located = {p.idea_id: {"latitude": p.latitude, "longitude": p.longitude, "label": p.label}
                   for p in session.exec(select(IdeaLocation).where(col(IdeaLocation.idea_id).in_(ids)))}
    return [{
        "id": idea.id,
        "call": calls.get(idea.call_id),
        "title": idea.title,
        "body_markdown": idea.body_md,
        "language": idea.language,
        "status": idea.status,
        "hidden_by_moderation": idea.hidden_at is not None,
        "created_at": when(idea.created_at),
        "updated_at": when(idea.updated_at),
        "submitted_at": when(idea.submitted_at),
        "published_at": when(idea.published_at),
        **_addresses(base_url, idea, photos.get(idea.id or 0, [])),
        "versions": versions.get(idea.id or 0, []),
        "location": located.get(idea.id or 0),
    } for idea in ideas]


def _versions(session: Session, idea_ids: list[int | None]) -> dict[int, list[dict[str, Any]]]:
    """The versions of the person's ideas, by idea, oldest first: each edit's wording before
    and after (theme and district by name), when, and whether the person or the moderation
    team made it (a moderator is not named: their name is not the person's data)."""
    rows = session.exec(select(IdeaVersion).where(col(IdeaVersion.idea_id).in_(idea_ids))
                        .order_by(col(IdeaVersion.created_at), col(IdeaVersion.id))).all()
    category_ids = {i for v in rows for i in (v.category_before_id, v.category_after_id) if i is not None}
    district_ids = {i for v in rows for i in (v.district_before_id, v.district_after_id) if i is not None}
    categories = dict(session.exec(select(Category.id, Category.name)
                                   .where(col(Category.id).in_(category_ids))).all()) if category_ids else {}
    districts = dict(session.exec(select(District.id, District.name)
                                  .where(col(District.id).in_(district_ids))).all()) if district_ids else {}
    result: dict[int, list[dict[str, Any]]] = {}
    for v in rows:
        result.setdefault(v.idea_id, []).append({
            "edited_at": when(v.created_at),
            "edited_by": "moderation" if v.by_moderation else "you",
            "status": v.status,
            "before": {"title": v.title_before, "body_markdown": v.body_md_before,
                       "theme": categories.get(v.category_before_id), "district": districts.get(v.district_before_id)},
            "after": {"title": v.title_after, "body_markdown": v.body_md_after,
                      "theme": categories.get(v.category_after_id), "district": districts.get(v.district_after_id)},
        })
    return result


def _addresses(base_url: str, idea: Idea, photos: list[IdeaPhoto]) -> dict[str, Any]:
    """Where one of the person's own ideas and its photos are, whatever its status."""
    assert idea.id is not None
    return {"url": base_url + links.idea_path(idea.id),
            "photos": [{"id": p.id, "url": base_url + links.photo_path(idea.id, p.id, "display"),
                        "alt_text": p.alt_text}
                       for p in photos if p.id is not None]}


def erase_ideas(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's drafts, and the photos of all their ideas (rows now, files after the
    commit); the other ideas, the status changes and the edits (versions) they made lose their
    author, as the ideas' text stays. Returns {"drafts_deleted", "photos_deleted"}."""
    photos = session.exec(select(IdeaPhoto, MediaFile).join(MediaFile, col(IdeaPhoto.media_id) == MediaFile.id)
                          .join(Idea, col(Idea.id) == IdeaPhoto.idea_id).where(Idea.author_id == user_id)).all()
    for photo, media in photos:
        session.delete(photo)
        media_service.delete_media(session, settings, media)
    session.flush()
    drafts = session.exec(select(Idea).where(Idea.author_id == user_id, Idea.status == IdeaStatus.draft)).all()
    for draft in drafts:
        session.delete(draft)
    session.flush()
    for idea_id in session.exec(select(Idea.id).where(Idea.author_id == user_id)).all():
        reindex_later(session, idea_id)  # the words stay; the index follows whatever changed
    session.execute(update(Idea).where(col(Idea.author_id) == user_id).values(author_id=None))
    session.execute(update(IdeaStatusChange).where(col(IdeaStatusChange.actor_id) == user_id).values(actor_id=None))
    session.execute(update(IdeaVersion).where(col(IdeaVersion.editor_id) == user_id).values(editor_id=None))
    return {"drafts_deleted": len(drafts), "photos_deleted": len(photos)}


def ideas_authored(session: Session, *, user_id: int) -> list[int]:
    """The ideas `erase_ideas` writes: every idea the person wrote."""
    return list(session.exec(select(Idea.id).where(Idea.author_id == user_id)).all())  # type: ignore[arg-type]


IDEAS = Holding("ideas", export=export_ideas, erase=erase_ideas, ideas=ideas_authored)
