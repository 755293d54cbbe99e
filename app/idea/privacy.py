"""What the ideas domain keeps about a person: the ideas they wrote (with their photos) and the
status changes they made. At deletion, drafts go with their photos, since nobody else ever saw
them; what was sent or published stays without its author's name."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import authz, links
from app.account.models import User
from app.authz import Action
from app.call.models import Call
from app.idea.models import Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange
from app.media import service as media_service
from app.media.models import MediaFile
from app.personal_data import Holding, when
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
    """Every idea `user` wrote, drafts and hidden ones included, with their photos' links."""
    calls = {c.id: c.title for c in session.exec(select(Call)).all()}
    ideas = session.exec(select(Idea).where(Idea.author_id == user.id).order_by(col(Idea.id))).all()
    photos: dict[int, list[IdeaPhoto]] = {}
    if ideas:
        for photo in session.exec(select(IdeaPhoto).where(col(IdeaPhoto.idea_id).in_([i.id for i in ideas]))
                                  .order_by(col(IdeaPhoto.position), col(IdeaPhoto.id))).all():
            photos.setdefault(photo.idea_id, []).append(photo)
    return [{
        "id": idea.id,
        "call": calls.get(idea.call_id),
        "title": idea.title,
        "body_markdown": idea.body_md,
        "status": idea.status,
        "hidden_by_moderation": idea.hidden_at is not None,
        "created_at": when(idea.created_at),
        "updated_at": when(idea.updated_at),
        "submitted_at": when(idea.submitted_at),
        "published_at": when(idea.published_at),
        **_addresses(base_url, idea, photos.get(idea.id or 0, [])),
    } for idea in ideas]


def _addresses(base_url: str, idea: Idea, photos: list[IdeaPhoto]) -> dict[str, Any]:
    """Where one of the person's own ideas and its photos are, whatever its status."""
    assert idea.id is not None
    return {"url": base_url + links.idea_path(idea.id),
            "photos": [{"url": base_url + links.photo_path(idea.id, p.id, "display"), "alt_text": p.alt_text}
                       for p in photos if p.id is not None]}


def erase_ideas(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's drafts with their photos (rows now, files after the commit); the
    other ideas and the status changes they made lose their author. Returns {"drafts_deleted"}."""
    drafts = session.exec(select(Idea).where(Idea.author_id == user_id, Idea.status == IdeaStatus.draft)).all()
    for draft in drafts:
        media = session.exec(select(MediaFile).join(IdeaPhoto, col(IdeaPhoto.media_id) == MediaFile.id)
                             .where(IdeaPhoto.idea_id == draft.id)).all()
        for item in media:
            media_service.delete_media(session, settings, item)
        session.delete(draft)
    session.flush()
    session.execute(update(Idea).where(col(Idea.author_id) == user_id).values(author_id=None))
    session.execute(update(IdeaStatusChange).where(col(IdeaStatusChange.actor_id) == user_id).values(actor_id=None))
    return {"drafts_deleted": len(drafts)}


IDEAS = Holding("ideas", export=export_ideas, erase=erase_ideas)
