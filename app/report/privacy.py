"""What the reports domain keeps about a person: the reports they made.

Exported, but kept at deletion, tied to the anonymised account: a report is part of the
moderation record of someone else's content, and resolving it must still work."""

from typing import Any

from sqlmodel import Session, col, select

from app.account.models import User
from app.idea.privacy import idea_ref
from app.personal_data import Holding, when
from app.report.models import Report


def export_reports(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every report `user` made, with its reason, their details and how it was resolved."""
    reports = session.exec(select(Report).where(Report.reporter_id == user.id).order_by(col(Report.id))).all()
    return [{
        "target_type": r.target_type,
        "target_id": r.target_id,
        "idea": idea_ref(session, user=user, base_url=base_url, idea_id=r.idea_id),
        "reason": r.reason,
        "details": r.details,
        "created_at": when(r.created_at),
        "resolved_at": when(r.resolved_at),
        "resolution": r.resolution,
    } for r in reports]


REPORTS = Holding("reports", export=export_reports)
