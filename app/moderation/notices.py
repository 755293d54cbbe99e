"""Who hears about a moderation decision: a thin adapter over app.notify.

The author always hears about a decision on their idea, with its reason, whether or not they
follow it; the followers hear about public events (answers, merges). app.notify writes the
in-app rows and queues e-mails (in each recipient's language, per their preferences).
"""

from sqlmodel import Session

from app import links, mail
from app.account.models import User
from app.call.models import Call
from app.i18n import N_
from app.idea.models import Idea
from app.intake import notices as intake_notices
from app.notify import service as notify_service
from app.notify.audiences import Audience
from app.notify.models import NotificationKind
from app.notify.news import News
from app.settings import Settings

# What each decision says in the notification list (msgids, translated when shown).
EVENT_DETAILS = {
    "approve": N_("Your idea is published."),
    "request_changes": N_("A moderator asks for changes to your idea."),
    "reject": N_("Your idea was not accepted."),
    "hide": N_("This idea was hidden by moderation."),
    "restore": N_("This idea is visible again."),
    "answer": N_("The city answered this idea."),
    "merged_source": N_("This idea was merged into another one."),
    "merged_target": N_("A similar idea was merged into this one."),
}


def idea_decision(session: Session, settings: Settings, *, idea: Idea, actor: User, event: str, note: str = "",
                  notify_followers: bool = False, link_idea: Idea | None = None) -> int:
    """Tell the author (and the followers for public events). `note` is the moderator's plain
    text (the reason, the requested changes, the answer). An idea entered for a resident has no
    author: its resident is told by e-mail when they gave an address (app.intake.notices).
    Returns how many people were told."""
    assert idea.id is not None
    target = link_idea or idea
    assert target.id is not None
    link = links.idea_path(target.id, "answer" if event == "answer" else "")
    told: set[int | None] = set()
    author = session.get(User, idea.author_id) if idea.author_id is not None else None
    if author is not None and notify_service.notify(
        session, settings, recipient=author, kind=NotificationKind.status, actor=actor, link=link,
        subject=idea.title, detail=EVENT_DETAILS[event], note=note, idea_id=target.id,
    ):
        told.add(author.id)
    # A resident without an account can read only public pages.
    if author is None and intake_notices.tell_resident(
        session, settings, idea=idea, detail=EVENT_DETAILS[event], note=note,
        link=link if target.is_public else None,
    ):
        told.add(None)
    if notify_followers:
        return len(told) + notify_service.tell_audience(
            session, settings, audience=Audience.followers, key=idea.id, excluded={*told, idea.author_id}, actor=actor,
            news=News(kind=NotificationKind.status, link=link, subject=idea.title, detail=EVENT_DETAILS[event],
                      note=note, idea_id=target.id))
    return len(told)


def account_banned(session: Session, *, user: User, reason: str) -> None:
    """A suspended person cannot log in to read a notification: they get an e-mail."""
    mail.queue_email(session, to=user.email, template="moderation_ban", lang=user.language, user_id=user.id,
                     name=user.display_name, note=reason)


def results_published(session: Session, settings: Settings, *, call: Call, actor: User) -> int:
    """Tell the followers of the call's ideas that its results are out (site and e-mail); returns how many
    people were notified."""
    return notify_service.results_published(session, settings, call=call, actor=actor)
