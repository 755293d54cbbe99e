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
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def test_a_support_whose_sign_in_ends_while_it_waits_for_its_turn_is_not_a_fault(
        client: WebClient, session: Session, monkeypatch: Any) -> None:
    """The visitor's session row, whose last activity the request noted when it read it (last
    noted long ago), is gone by the time the request writes: the support is still written or
    refused as one, not a 500 (the note's UPDATE matched no row: StaleDataError)."""
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    assert voter.id is not None and idea.id is not None
    client.login_as(voter)
    token = client.csrf()
    with client.db.transaction() as other:  # last noted an hour ago: this request notes it again
        for row in other.exec(select(UserSession).where(UserSession.user_id == voter.id)).all():
            row.last_seen_at = utcnow() - timedelta(hours=1)
            other.add(row)
    write = Database.write

    async def signed_out_meanwhile(db: Database, own: Session, work: Any) -> Any:
        with db.transaction() as other:  # a logout from another tab, before this turn
            other.exec(delete(UserSession).where(UserSession.user_id == voter.id))  # type: ignore[call-overload]
        return await write(db, own, work)

    monkeypatch.setattr(Database, "write", signed_out_meanwhile)
    answer = client.post(f"/ideas/{idea.id}/vote", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code < 500, answer.text
    session.expire_all()
    assert vote_service.count_rows(session, idea.id) == vote_service.vote_count(session, idea.id)
