"""What the announcements domain keeps about a person: the replies from networks they reported.

Exported, and erased at account deletion: a report of a reply only asks moderators to look at
it again, and the count it added goes with it. Announcements a moderator wrote are
the city's texts and stay (their author link is set to null with the account)."""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.account.models import User
from app.announce.models import NetworkReply, NetworkReplyReport
from app.personal_data import Holding, when
from app.settings import Settings


def export_reply_reports(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every reply from a network `user` reported: its address, author and when."""
    rows = session.exec(select(NetworkReplyReport, NetworkReply)
                        .join(NetworkReply, col(NetworkReply.id) == NetworkReplyReport.reply_id)
                        .where(NetworkReplyReport.user_id == user.id)
                        .order_by(col(NetworkReplyReport.created_at))).all()
    return [{"reply_url": reply.url, "reply_author": reply.author_handle, "created_at": when(report.created_at)}
            for report, reply in rows]


def erase_reply_reports(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's reports of replies, each reply's count with its row. No figure."""
    reported = [row[0] for row in session.execute(
        delete(NetworkReplyReport).where(col(NetworkReplyReport.user_id) == user_id)
        .returning(col(NetworkReplyReport.reply_id))).all()]
    if reported:
        session.execute(update(NetworkReply).where(col(NetworkReply.id).in_(reported), col(NetworkReply.reports) > 0)
                        .values(reports=col(NetworkReply.reports) - 1))
    return {}


REPLY_REPORTS = Holding("reply_reports", export=export_reply_reports, erase=erase_reply_reports)
