"""Demonstration data for moderation: official answers given through the service (so they are
in the audit log and the public history), a request for changes and a rejection."""


from sqlmodel import Session, col, select

from app.audit import AuditAction, AuditEntry, TargetType
from app.demo_context import DemoContext
from app.idea.models import AnswerStatus, Idea, IdeaStatus
from app.moderation import idea_decisions

ANSWERS = (
    (AnswerStatus.under_study,
     "Merci pour cette proposition. Le service concerné l'étudie et vous répondra d'ici la fin du mois."),
    (AnswerStatus.accepted,
     "Bonne idée ! Elle sera intégrée au plan d'action de l'an prochain, avec un budget prévu."),
)


def seed_moderation(session: Session, context: DemoContext) -> None:
    moderator = context.moderator
    settings = context.settings
    # Answers recorded directly by the ideas seeder get their audit entry, as a moderator would leave.
    for idea in session.exec(select(Idea).where(col(Idea.answer_status).is_not(None))).all():
        assert idea.id is not None
        session.add(AuditEntry(actor_id=moderator.id, action=AuditAction.answer, target_type=TargetType.idea,
                               target_id=idea.id, to_status=idea.answer_status,
                               created_at=idea.answered_at or idea.created_at))
    published = session.exec(
        select(Idea).where(Idea.status == IdeaStatus.published, col(Idea.answer_status).is_(None),
                           col(Idea.hidden_at).is_(None), Idea.author_id != moderator.id)
        .order_by(col(Idea.vote_count).desc(), col(Idea.id)).limit(len(ANSWERS))
    ).all()
    for idea, (status, text) in zip(published, ANSWERS, strict=False):
        idea_decisions.answer_idea(session, actor=moderator, idea=idea, answer_status=status, answer_md=text,
                                   settings=settings)
    pending = session.exec(select(Idea).where(Idea.status == IdeaStatus.submitted, Idea.author_id != moderator.id)
                           .order_by(col(Idea.id))).all()
    if len(pending) >= 3:
        idea_decisions.request_changes(session, actor=moderator, idea=pending[0], settings=settings,
                                       message="Pouvez-vous préciser l'adresse exacte et ajouter une photo du lieu ?")
        reason = idea_decisions.rejection_reason("not_municipal", "La Région est compétente pour ce tronçon.", "fr")
        idea_decisions.reject_idea(session, actor=moderator, idea=pending[1], reason=reason, settings=settings)
    session.flush()
