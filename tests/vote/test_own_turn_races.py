"""What changes while a support waits for its write turn (app.db.Database.write): the request
read its visitor before the turn, and noted their last activity then (written in the turn).
Another request may end that sign-in meanwhile (a logout from another tab, a deletion of the
account); the support must then be answered as such a request is, never as a fault."""

from datetime import timedelta
from typing import Any

from sqlmodel import Session, delete, select

from app.account.models import UserSession
from app.clock import utcnow
from app.db import Database
from app.vote import service as vote_service
from tests.support import WebClient
from tests.vote.parallel import signed_in_voter


def test_a_support_whose_sign_in_ends_while_it_waits_for_its_turn_is_not_a_fault(
        client: WebClient, session: Session, monkeypatch: Any) -> None:
    """The visitor's session row, whose last activity the request noted when it read it (last
    noted long ago), is gone by the time the request writes: the support is still written or
    refused as one, not a 500 (the note's UPDATE matched no row: StaleDataError)."""
    idea_id, voter_id, token = signed_in_voter(client, session)
    with client.db.transaction() as other:  # last noted an hour ago: this request notes it again
        for row in other.exec(select(UserSession).where(UserSession.user_id == voter_id)).all():
            row.last_seen_at = utcnow() - timedelta(hours=1)
            other.add(row)
    write = Database.write

    async def signed_out_meanwhile(db: Database, own: Session, work: Any) -> Any:
        with db.transaction() as other:  # a logout from another tab, before this turn
            other.exec(delete(UserSession).where(UserSession.user_id == voter_id))  # type: ignore[call-overload]
        return await write(db, own, work)

    monkeypatch.setattr(Database, "write", signed_out_meanwhile)
    answer = client.post(f"/ideas/{idea_id}/vote", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code < 500, answer.text
    session.expire_all()
    assert vote_service.count_rows(session, idea_id) == vote_service.vote_count(session, idea_id)
