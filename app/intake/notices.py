"""E-mails to residents whose idea was entered for them and who gave an e-mail address: the
moderators' decisions on it and its official answer, as its author would be told (called by
app.moderation.notices). Nothing else: no digest, no comment news. They have no account, so the e-mail says
how to stop them (ask the city, which erases the address: app.intake.privacy); it is written
in the platform's default language and checked again at send time (`still_wanted`)."""

from sqlmodel import Session, select

from app import links, mail
from app.idea.models import Idea
from app.intake.models import IdeaIntake
from app.settings import Settings

INTAKE_KEY = "intake_id"  # in the e-mail's payload, for the send-time check


def tell_resident(session: Session, settings: Settings, *, idea: Idea, detail: str, note: str = "",
                  link: str | None = None) -> bool:
    """Queue an e-mail to the resident of `idea` (if it was entered for one who gave an
    address) about a moderator's decision: `detail` is what happened (an English msgid, "Your
    idea is published."), `note` the moderator's words (the reason, the official answer),
    `link` the path of a public page to read more, or None when there is none: the resident has
    no account, so a page only its author could see (a hidden, rejected or unpublished idea)
    would answer them "not found". Returns whether an e-mail was queued."""
    assert idea.id is not None
    intake = session.exec(select(IdeaIntake).where(IdeaIntake.idea_id == idea.id)).first()
    if intake is None or not intake.contact_email:
        return False
    mail.queue_email(
        session, to=intake.contact_email, template="intake_status", lang=settings.default_language,
        extra={INTAKE_KEY: intake.id},
        name=intake.display_name, subject=idea.title, detail=detail, note=note,
        link=settings.absolute_url(link) if link else "",
        contact=settings.absolute_url(links.path("page:contact")),
    )
    return True


def still_wanted(session: Session, payload: dict[str, object]) -> bool:
    """At send time: the intake still exists and still holds the address the e-mail goes to
    (staff may have erased it meanwhile)."""
    intake_id = payload.get(INTAKE_KEY)
    intake = session.get(IdeaIntake, intake_id) if isinstance(intake_id, int) else None
    return intake is not None and bool(intake.contact_email) and intake.contact_email == payload.get("to")
