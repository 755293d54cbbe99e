"""Demonstration announcements: for each public call, the announcement of its current phase,
published through the service (audit entry and deliveries included, as a moderator's would be),
so that the announcements page, the call pages and the Atom feed have entries. The one channel
configured is the newsletter, which needs no network: the demo's worker writes its e-mails to
var/mail/."""

from sqlmodel import Session, col, select

from app.announce import service
from app.announce.models import AnnouncementEvent, ChannelAccount
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.demo_context import DemoContext

EVENT_OF_PHASE = {
    Phase.submissions: AnnouncementEvent.call_opens,
    Phase.voting: AnnouncementEvent.voting_opens,
    Phase.results: AnnouncementEvent.results_published,
    Phase.closed: AnnouncementEvent.results_published,
}


def seed_announcements(session: Session, context: DemoContext) -> None:
    """Configure the newsletter channel, then publish one announcement per public call whose
    phase has an event to announce."""
    session.add(ChannelAccount(kind="newsletter", label="Lettre d’information de la Ville"))
    session.flush()
    for call in session.exec(select(Call).order_by(col(Call.id))).all():
        event = EVENT_OF_PHASE.get(current_phase(call))
        if event is None:
            continue
        announcement = service.create_draft(session, actor=context.moderator, settings=context.settings,
                                            event=event, call=call)
        service.publish(session, actor=context.moderator, announcement=announcement, confirmed=True)
    session.flush()
