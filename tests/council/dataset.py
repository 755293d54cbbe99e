"""A small world whose figures are counted by hand in the tests (see the comments of `build`).

Times are chosen around the city's time zone: a support given on Sunday 8 March 2026 at 23:30 UTC
is on Monday 00:30 in Brussels, so in ISO week 11, not 10."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from app.account.models import Role, User
from app.audit import AuditEntry
from app.call.models import Call, Category, District
from app.comment.models import Comment
from app.idea.models import Idea, IdeaStatusChange
from app.report.models import Report
from app.residents.models import ResidentVerification, VerificationRule
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_district, make_idea, make_user

A = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # Tuesday of ISO week 10
B = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # Tuesday of ISO week 11
SUNDAY_NIGHT = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)  # Monday 00:30 in Brussels: week 11
EVIL_TITLE = '=HYPERLINK("http://evil")'
CMD_TITLE = "+cmd"


@dataclass
class World:
    call: Call
    other: Call
    north: District
    south: District
    mobility: Category
    nature: Category
    anne: User
    bart: User  # a verified resident, Dutch interface
    carl: User  # German interface
    dina: User
    eve: User  # supports only: her name and e-mail must appear in no export
    moderator: User
    admin: User
    ideas: list[Idea]


def build(session: Session) -> World:
    """Call ideas (staff scope): i1 anne north mobility published (week 10); i2 bart south nature
    published (week 11); i3 anne north nature published but hidden (week 11, formula title);
    i4 carl no district mobility rejected (week 10, "+cmd"); a draft by dina (never counted).
    Another call holds one published idea by dina."""
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    call = make_call(session, title="Budget participatif", phase="voting")
    other = make_call(session, title="Autre appel", phase="voting")
    mobility, nature = make_category(session, call, name="Mobilité"), make_category(session, call, name="Nature")
    anne = make_user(session, display_name="Anne Autrice")
    bart = make_user(session, display_name="Bart Bewoner", language="nl")
    carl = make_user(session, display_name="Carl Bürger", language="de")
    dina = make_user(session, display_name="Dina Draft")
    eve = make_user(session, display_name="Eve Secrète", email="eve.secrete@example.org")
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice Ana")
    admin = make_user(session, role=Role.admin, display_name="Admin Bob")
    rule = VerificationRule(provider_key="test", postal_code_claim="postal_code", postal_codes="4000")
    session.add(rule)
    session.flush()
    session.add(ResidentVerification(user_id=bart.id or 0, rule_id=rule.id or 0, resident_hash="h" * 64,
                                     holder="x" * 32, age_band="25_34"))

    def idea(author: User, title: str, status: str, at: datetime, **fields: object) -> Idea:
        made = make_idea(session, call, author, title=title, status=status, **fields)
        made.created_at = made.submitted_at = at
        made.published_at = at if status == "published" else None
        return made

    i1 = idea(anne, "Des pistes cyclables", "published", A, district=north, category=mobility,
              answer_status="accepted", answered_at=A + timedelta(days=3), answer_html="<p>@SUM(1) Oui</p>")
    i2 = idea(bart, "Un verger", "published", B, district=south, category=nature)
    i3 = idea(anne, EVIL_TITLE, "published", B, district=north, category=nature, hidden_at=B + timedelta(days=1))
    i4 = idea(carl, CMD_TITLE, "rejected", A, category=mobility)
    draft = make_idea(session, call, dina, title="Brouillon", status="draft")
    i6 = make_idea(session, other, dina, title="Ailleurs", status="published")
    session.flush()

    def support(person: User, target: Idea, at: datetime) -> None:
        session.add(Vote(idea_id=target.id or 0, user_id=person.id or 0, call_id=target.call_id,
                         category_id=target.category_id, created_at=at))

    support(bart, i1, SUNDAY_NIGHT)
    support(carl, i1, A)
    support(dina, i2, B)
    support(anne, i2, B)
    support(carl, i3, B)
    support(eve, i2, B)
    support(eve, i6, B)  # the other call

    def comment(person: User, target: Idea, at: datetime, body: str = "Bonne idée", **fields: object) -> Comment:
        made = Comment(idea_id=target.id or 0, author_id=person.id, body_md=body, body_html=f"<p>{body}</p>",
                       created_at=at, **fields)
        session.add(made)
        return made

    comment(carl, i1, A, body="-2+3 d'accord")
    comment(moderator, i1, B, body="La ville étudie")
    hidden_comment = comment(dina, i2, B, body="Insulte", hidden_at=B)
    comment(bart, i2, B, body="Effacé", deleted_at=B)
    comment(anne, i3, B)
    session.flush()

    session.add(IdeaStatusChange(idea_id=i1.id or 0, actor_id=moderator.id, from_status="submitted",
                                 to_status="published", created_at=A + timedelta(hours=1)))
    session.add(IdeaStatusChange(idea_id=i1.id or 0, actor_id=moderator.id, from_status="published",
                                 to_status="accepted", note="=cmd|' /C calc'!A0", created_at=A + timedelta(days=3)))

    def decision(actor: User | None, action: str, target_type: str, target_id: int, at: datetime) -> None:
        session.add(AuditEntry(actor_id=actor.id if actor else None, action=action, target_type=target_type,
                               target_id=target_id, created_at=at))

    # Decisions: the moderator 4 (approve i1 after 1 h, answer i1, hide i3 after 1 day, hide a
    # comment), the admin 1 (reject i4 after 2 days): median time to a first decision, 1 day.
    decision(moderator, "approve", "idea", i1.id or 0, A + timedelta(hours=1))
    decision(moderator, "answer", "idea", i1.id or 0, A + timedelta(days=3))
    decision(moderator, "hide", "idea", i3.id or 0, B + timedelta(days=1))
    decision(moderator, "hide", "comment", hidden_comment.id or 0, B)
    decision(admin, "reject", "idea", i4.id or 0, A + timedelta(days=2))
    decision(moderator, "approve", "idea", i6.id or 0, B)  # the other call
    # Reports: two on i3 (one handled), one handled in the other call.
    session.add(Report(target_type="idea", target_id=i3.id or 0, idea_id=i3.id or 0, reporter_id=dina.id or 0,
                       reason="spam", resolved_at=B, resolved_by_id=moderator.id, resolution="hidden"))
    session.add(Report(target_type="idea", target_id=i3.id or 0, idea_id=i3.id or 0, reporter_id=eve.id or 0,
                       reason="spam"))
    session.add(Report(target_type="idea", target_id=i6.id or 0, idea_id=i6.id or 0, reporter_id=anne.id or 0,
                       reason="spam", resolved_at=B, resolved_by_id=moderator.id, resolution="dismissed"))
    session.commit()
    del draft
    return World(call, other, north, south, mobility, nature, anne, bart, carl, dina, eve, moderator, admin,
                 [i1, i2, i3, i4])
