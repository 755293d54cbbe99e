"""A support's write reads its voter again: what the request read at its start (an active
account) may have changed before the write, and a rule checked only on that first reading
would keep a support nobody may give any more."""

import threading

from sqlmodel import Session, select

from app.account import privacy
from app.account.models import User
from app.idea import queries as idea_queries
from app.settings import Settings
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

PASSWORD = "a long passphrase for the test"
WAIT = 2.0  # seconds: enough for the deletion to commit when nothing holds it back


def test_a_support_sent_as_its_voter_deletes_the_account_is_not_kept(client: WebClient, session: Session,
                                                                     settings: Settings, monkeypatch) -> None:
    """The person supports an idea from one device and deletes their account from another: the
    deletion withdraws their supports in open calls, so a support written after it, by a request
    that had read the account while it was still active, would outlive the erasure (a deleted
    account supporting an idea, counted). Whatever the order, none remains."""
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session, password=PASSWORD)
    session.commit()
    client.login_as(voter)
    url, token = f"/ideas/{idea.id}/vote", client.csrf()
    deletions: list[threading.Thread] = []
    read_idea = idea_queries.visible_idea

    def delete_account() -> None:
        with client.db.transaction() as other:
            person = other.get(User, voter.id)
            assert person is not None
            privacy.delete_account(other, settings, person, password=PASSWORD)

    def deleted_meanwhile(*args: object, **kwargs: object) -> object:
        found = read_idea(*args, **kwargs)  # type: ignore[arg-type]
        # The account is deleted once the support's request has read it. Where the request
        # already holds the write lock (SQLite's one writer), the deletion waits for its end.
        deletion = threading.Thread(target=delete_account)
        deletion.start()
        deletion.join(WAIT)
        deletions.append(deletion)
        return found

    monkeypatch.setattr(idea_queries, "visible_idea", deleted_meanwhile)
    answer = client.post(url, data={"csrf_token": token}, headers={"Accept": "application/json"})
    for deletion in deletions:
        deletion.join()
    assert deletions and answer.status_code in (200, 401, 403), answer.text
    session.expire_all()
    gone = session.get(User, voter.id)
    assert gone is not None and gone.deleted_at is not None
    assert session.exec(select(Vote).where(Vote.user_id == voter.id)).all() == []
    assert vote_service.vote_count(session, idea.id or 0) == vote_service.count_rows(session, idea.id or 0) == 0
