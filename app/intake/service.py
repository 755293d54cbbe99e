"""Ideas entered by staff on a resident's behalf: one at a time from the intake form, or many
from a spreadsheet (app.intake.sheets). Services validate, write and flush; routes check
permissions (`Action.intake_enter`) and commit.

The model: an entered idea has no author (`Idea.author_id` is None), so the staff member's own
"My ideas", their ideas-per-person limit and their supports are untouched; its `IdeaIntake` row
says how it came in, who entered it, the name the resident wants shown and how to reach them.
It then follows the call's normal flow: published at once, or queued for the moderators when
the call is pre-moderated; answered officially; its resident told by e-mail when they gave an
address (app.intake.notices)."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import audit, contentlang
from app.account.models import User
from app.account.service import EMAIL_RE, normalise_email
from app.audit import AuditAction, TargetType
from app.authz import Action, Moderated, can
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import N_
from app.idea import queries as idea_queries
from app.idea import service as idea_service
from app.idea.models import Idea, IdeaStatus, IdeaStatusChange
from app.intake.models import Channel, IdeaIntake
from app.media import service as media_service
from app.media.models import MediaFile
from app.media.storage import PRIVATE_MEDIA
from app.moderation.admin_service import assigned_ids
from app.richtext import render_markdown
from app.settings import Settings

NAME_MAX = 80
ADDRESS_MAX = 300
EMAIL_MAX = 254
# Ideas collected off the platform are entered while the call takes ideas, or a little later:
# forms gathered in the last days of submissions are typed during the voting phase.
INTAKE_PHASES = (Phase.submissions, Phase.voting)


def takes_intake(call: Call) -> bool:
    """Whether staff may enter ideas received off the platform for `call` now (`INTAKE_PHASES`)."""
    return current_phase(call) in INTAKE_PHASES


def offered_to(session: Session, user: User | None, call: Call) -> bool:
    """Whether the call's page offers `user` to enter an idea received on paper: the call takes
    them now and `user` may enter them for this call (its moderators, or every moderator when
    none is assigned, and administrators: Action.intake_enter)."""
    if user is None or not can(user, Action.intake_enter) or not takes_intake(call):
        return False
    return can(user, Action.intake_enter, Moderated(call, assigned_ids(session, call.id or 0)))
CLOSED = N_("This call no longer receives ideas: they can be entered during its submission and support phases.")
ONLINE = "online"  # the key of ideas proposed on the platform itself in `channel_counts`


@dataclass
class IntakeInput:
    """How an idea came in and who sent it: `channel` (a Channel value), the resident's name
    as they want it shown (ignored when `anonymous`), an optional e-mail address to tell them
    of its status and official answer, and an optional postal address kept for staff."""

    channel: str = Channel.paper
    display_name: str = ""
    anonymous: bool = False
    contact_email: str = ""
    postal_address: str = ""


def check_open(call: Call) -> None:
    """Raises ValidationFailed({"form": CLOSED}) unless `call` is in one of `INTAKE_PHASES`."""
    if not takes_intake(call):
        raise ValidationFailed({"form": CLOSED})


def validate_intake(data: IntakeInput) -> dict[str, str]:
    """Checks (and normalises in place) an intake's fields: field name -> English msgid."""
    errors: dict[str, str] = {}
    data.display_name = " ".join(data.display_name.split())
    data.contact_email = normalise_email(data.contact_email)
    data.postal_address = data.postal_address.replace("\r\n", "\n").strip()
    if data.channel not in set(Channel):
        errors["channel"] = N_("Choose how the idea was received.")
    if data.anonymous:
        data.display_name = ""
    elif not data.display_name:
        errors["display_name"] = N_("Give the name the resident wants shown, or tick “anonymous”.")
    elif len(data.display_name) > NAME_MAX:
        errors["display_name"] = N_("The name must be at most 80 characters.")
    if data.contact_email and (not EMAIL_RE.match(data.contact_email) or len(data.contact_email) > EMAIL_MAX):
        errors["contact_email"] = N_("Enter a valid e-mail address, or leave it empty.")
    if len(data.postal_address) > ADDRESS_MAX:
        errors["postal_address"] = N_("The postal address must be at most 300 characters.")
    return errors


def enter_idea(session: Session, settings: Settings, call: Call, staff: User, *, data: idea_service.IdeaInput,
               intake: IntakeInput, scan: bytes | None = None, fingerprint: str | None = None,
               audit_entry: bool = True) -> Idea:
    """A resident's idea entered by `staff` in `call`: validated as a submitted idea (title,
    description, theme when the call has themes, district), then published, or queued for
    moderation when the call is pre-moderated, with `staff` as the actor in its public history.

    `scan` is the photo or scan of the paper form: re-encoded by the photo pipeline and kept
    under `settings.private_media_dir` (never public). `fingerprint` marks a row of a bulk
    import (unique per call). Raises ValidationFailed (field -> msgid; "scan" for a refused
    image; "form" when the call is past `INTAKE_PHASES`). Audited (`intake_enter`) unless
    `audit_entry` is False (a bulk import writes one entry for the whole file)."""
    assert call.id is not None
    check_open(call)
    errors = idea_service.validate_input(session, call, data)
    errors.update(validate_intake(intake))
    if errors:
        raise ValidationFailed(errors)
    idea = Idea(call_id=call.id, author_id=None, title=data.title, body_md=data.body_md,
                body_html=render_markdown(data.body_md), category_id=data.category_id,
                district_id=data.district_id, status=IdeaStatus.draft,
                # Recognised from its text (app.contentlang): a form on paper declares no language.
                language=contentlang.detect_language(f"{data.title}\n{data.body_md}"))
    session.add(idea)
    session.flush()
    assert idea.id is not None
    scan_media = None
    if scan is not None:
        scan_media = media_service.store_image(session, settings, data=scan, owner_id=None, field="scan",
                                               area=PRIVATE_MEDIA)
    session.add(IdeaIntake(idea_id=idea.id, call_id=call.id, channel=intake.channel,
                           display_name=intake.display_name, contact_email=intake.contact_email or None,
                           postal_address=intake.postal_address,
                           scan_media_id=scan_media.id if scan_media is not None else None,
                           entered_by_id=staff.id, fingerprint=fingerprint))
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=staff.id, from_status=None, to_status=IdeaStatus.draft))
    now = utcnow()
    idea.submitted_at = now
    if call.premoderation:
        idea_service.record_change(session, idea, staff, IdeaStatus.submitted)
    else:
        idea.published_at = now
        idea_service.record_change(session, idea, staff, IdeaStatus.published)
    if audit_entry:
        audit.record(session, actor=staff, action=AuditAction.intake_enter, target_type=TargetType.idea,
                     target_id=idea.id, to_status=idea.status,
                     details={"channel": intake.channel, "scan": scan_media is not None})
    session.flush()
    return idea


def intake_of(session: Session, idea_id: int) -> IdeaIntake | None:
    """The intake row of idea `idea_id`, or None for an idea proposed on the platform."""
    return session.exec(select(IdeaIntake).where(IdeaIntake.idea_id == idea_id)).first()


def scan_of(session: Session, intake: IdeaIntake) -> MediaFile | None:
    """The stored scan of an intake, or None (none was given, or it was erased)."""
    return session.get(MediaFile, intake.scan_media_id) if intake.scan_media_id is not None else None


def channel_counts(session: Session, call_id: int) -> dict[str, int]:
    """How the ideas of call `call_id` came in: {"online": n, "paper": n, "email": n, ...},
    every channel present (0 when none). Counts the ideas received, as the council's report does
    (`app.idea.queries.seen_by_moderators`: every idea but drafts never submitted, so ideas
    withdrawn after submission, hidden or rejected count). For the review page of a call and the
    council's report."""
    online = session.exec(
        select(func.count()).select_from(Idea)
        .outerjoin(IdeaIntake, col(IdeaIntake.idea_id) == Idea.id)
        .where(Idea.call_id == call_id, idea_queries.seen_by_moderators(), col(IdeaIntake.id).is_(None))
    ).one()
    counts: dict[str, int] = {ONLINE: int(online), **{str(c): 0 for c in Channel}}
    rows = session.exec(
        select(IdeaIntake.channel, func.count()).join(Idea, col(Idea.id) == IdeaIntake.idea_id)
        .where(IdeaIntake.call_id == call_id, idea_queries.seen_by_moderators())
        .group_by(col(IdeaIntake.channel))
    ).all()
    for channel, count in rows:
        counts[str(channel)] = int(count)
    return counts


def recent_intakes(session: Session, call_id: int, limit: int = 50) -> list[tuple[IdeaIntake, Idea]]:
    """The latest `limit` ideas entered for residents in call `call_id`, newest first."""
    return list(session.exec(
        select(IdeaIntake, Idea).join(Idea, col(Idea.id) == IdeaIntake.idea_id)
        .where(IdeaIntake.call_id == call_id)
        .order_by(col(IdeaIntake.created_at).desc(), col(IdeaIntake.id).desc()).limit(limit)
    ).all())
