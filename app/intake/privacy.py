"""What the intake domain keeps about a person: for a resident whose idea staff entered, the
name they wanted shown, their e-mail or postal address and the scan of their paper form; for a
staff member, which intakes they entered.

A resident usually has no account, so the account export and deletion cannot reach them. What
erasure means for them (documented in docs/architecture.md, app/intake): staff, on the
resident's request (by letter, at the counter, through the contact page), open the intake's
page, download its data (`export_intake`, a JSON file) and erase it (`erase_intake`): the shown
name becomes "anonymous", the addresses are deleted, the scan's files go, e-mails still waiting
for that address are cancelled, and the erasure is audited. The idea stays for the debate, as
an idea deleted account's does, without anything naming its resident.

A resident who also has an account with the same confirmed e-mail address gets these intakes in
their own export, and their deletion erases them too (`RESIDENT_INTAKES`). A staff member's
deletion detaches them from what they entered (`ENTERED`)."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit, links, mail
from app.account.models import User
from app.audit import AuditAction, TargetType
from app.clock import utcnow
from app.idea.models import Idea
from app.intake.models import IdeaIntake
from app.media import service as media_service
from app.media.models import MediaFile
from app.media.storage import PRIVATE_MEDIA
from app.personal_data import Holding, when
from app.settings import Settings


def export_intake(session: Session, intake: IdeaIntake, *, base_url: str) -> dict[str, Any]:
    """An intake's personal data, JSON-ready: the idea (id, title, link), how it came in, the
    name shown, the contact given, when it was entered, whether a scan is kept, and whether the
    data was erased."""
    idea = session.get(Idea, intake.idea_id)
    return {
        "idea": {"id": intake.idea_id, "title": idea.title if idea else None,
                 "url": base_url + links.idea_path(intake.idea_id)},
        "channel": intake.channel,
        "name_shown": intake.display_name or None,
        "contact_email": intake.contact_email,
        "postal_address": intake.postal_address or None,
        "scan_kept": intake.scan_media_id is not None,
        "entered_at": when(intake.created_at),
        "erased_at": when(intake.erased_at),
    }


def erase_intake(session: Session, settings: Settings, intake: IdeaIntake, *, actor: User | None) -> None:
    """Erase the resident's personal data from `intake` (see the module docstring): name,
    addresses, scan (its row now, its files once committed), e-mails still waiting for the
    address. Audited as `intake_erase` on the idea when `actor` (staff) asked; by the person's
    own account deletion (`actor` None), the deletion's entry covers it."""
    address = intake.contact_email
    media = session.get(MediaFile, intake.scan_media_id) if intake.scan_media_id is not None else None
    intake.display_name, intake.contact_email, intake.postal_address = "", None, ""
    intake.scan_media_id = None
    intake.erased_at = utcnow()
    session.add(intake)
    session.flush()
    if media is not None:
        media_service.delete_media(session, settings, media, area=PRIVATE_MEDIA)
    if address:
        mail.cancel_for_person(session, user_id=-1, address=address)
    if actor is not None:
        audit.record(session, actor=actor, action=AuditAction.intake_erase, target_type=TargetType.idea,
                     target_id=intake.idea_id)
    session.flush()


def _by_address(session: Session, user: User) -> list[IdeaIntake]:
    """Intakes whose contact is the person's own confirmed address."""
    if user.email_verified_at is None or not user.email:
        return []
    return list(session.exec(select(IdeaIntake).where(IdeaIntake.contact_email == user.email)
                             .order_by(col(IdeaIntake.id))).all())


def export_resident_intakes(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """The ideas staff entered for the person, found by their confirmed e-mail address."""
    return [export_intake(session, intake, base_url=base_url) for intake in _by_address(session, user)]


def erase_resident_intakes(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """At account deletion: the intakes given with the person's confirmed address are erased."""
    user = session.get(User, user_id)
    if user is None:
        return {}
    intakes = _by_address(session, user)
    for intake in intakes:
        erase_intake(session, settings, intake, actor=None)
    return {"intakes_erased": len(intakes)} if intakes else {}


def detach_staff(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """At a staff member's deletion: the intakes they entered no longer name them."""
    session.execute(update(IdeaIntake).where(col(IdeaIntake.entered_by_id) == user_id).values(entered_by_id=None))
    return {}


RESIDENT_INTAKES = Holding("ideas_entered_for_you", export=export_resident_intakes, erase=erase_resident_intakes)
ENTERED = Holding("intakes_entered", erase=detach_staff)
