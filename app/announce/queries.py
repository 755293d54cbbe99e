"""Read models of announcements: what the public sees (published ones only) and what
moderators list."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.announce.models import Announcement, AnnouncementStatus, ChannelAccount, Delivery
from app.call.models import Call
from app.call.phases import is_public
from app.idea.models import Idea
from app.settings import LANGUAGES

MAX_LISTED = 50


def language_for(announcement: Announcement, lang: str) -> str:
    """The language of the text shown to a reader of `lang`: `lang` when the announcement has a
    text in it, else its original language, else the first language that has one ("" for none)."""
    texts = announcement.texts or {}
    candidates = (lang, announcement.original_language, LANGUAGES[0], *LANGUAGES)
    return next((candidate for candidate in candidates if candidate and texts.get(candidate)), "")


def text_for(announcement: Announcement, lang: str) -> str:
    """The text shown to a reader of `lang`, in `language_for(announcement, lang)`."""
    return (announcement.texts or {}).get(language_for(announcement, lang), "")


def public_subject(session: Session, announcement: Announcement) -> bool:
    """Whether what `announcement` tells of is public: its call (an announcement scheduled
    about a call still in draft waits, unseen, until the call opens) and its idea (one about
    an idea hidden, rejected or withdrawn since is no longer shown, sent or fed anywhere)."""
    if announcement.call_id is not None:
        call = session.get(Call, announcement.call_id)
        if call is None or not is_public(call):
            return False
    if announcement.idea_id is not None:
        idea = session.get(Idea, announcement.idea_id)
        if idea is None or not idea.is_public:
            return False
    return True


def published(session: Session, *, call_id: int | None = None, limit: int = MAX_LISTED) -> list[Announcement]:
    """Published announcements the public may see, newest first, at most `limit`; only
    `call_id`'s when given. One about a call still in draft or an idea no longer public is left out."""
    query = select(Announcement).where(Announcement.status == AnnouncementStatus.published)
    if call_id is not None:
        query = query.where(Announcement.call_id == call_id)
    found = session.exec(query.order_by(col(Announcement.published_at).desc(), col(Announcement.id).desc())
                         .limit(limit)).all()
    return [a for a in found if public_subject(session, a)]


def published_one(session: Session, announcement_id: int) -> Announcement | None:
    """The announcement if the public may see it, else None (drafts, scheduled and cancelled
    ones, and those about a call still in draft or an idea no longer public, are not public)."""
    announcement = session.get(Announcement, announcement_id)
    if announcement is None or announcement.status != AnnouncementStatus.published:
        return None
    return announcement if public_subject(session, announcement) else None


def for_moderators(session: Session, limit: int = 200) -> Sequence[Announcement]:
    """Every announcement, newest first: drafts and scheduled ones too."""
    return session.exec(select(Announcement).order_by(col(Announcement.created_at).desc(),
                                                      col(Announcement.id).desc()).limit(limit)).all()


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as the deliveries page lists it; `announcement` None for the assistant's
    answer under a mention (`delivery.question_id`)."""

    delivery: Delivery
    channel: ChannelAccount
    announcement: Announcement | None


def deliveries(session: Session, *, status: str | None = None, channel_id: int | None = None,
               announcement_id: int | None = None, limit: int = 100) -> list[DeliveryRow]:
    """Deliveries, newest first, at most `limit`, filtered by status, channel or announcement."""
    query = (select(Delivery, ChannelAccount, Announcement)
             .join(ChannelAccount, col(ChannelAccount.id) == Delivery.channel_id)
             .outerjoin(Announcement, col(Announcement.id) == Delivery.announcement_id))
    if status:
        query = query.where(Delivery.status == status)
    if channel_id is not None:
        query = query.where(Delivery.channel_id == channel_id)
    if announcement_id is not None:
        query = query.where(Delivery.announcement_id == announcement_id)
    found = session.exec(query.order_by(col(Delivery.created_at).desc(), col(Delivery.id).desc()).limit(limit)).all()
    return [DeliveryRow(d, c, a) for d, c, a in found]
