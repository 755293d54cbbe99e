"""A bulk approval locks every idea it decides, in ascending id, before its first write
(app.locks.lock_ideas); each decision then locks its idea as one moderator's decision does, FOR
UPDATE (app.moderation.common.lock_idea). Taken FOR NO KEY UPDATE first, that lock had to be
strengthened later, which waits for a writer that merely references the idea (KEY SHARE: a row
pointing to it, a photo, a version, a follow) and is about to change it: that writer waited
for the approval's first lock and the approval for its KEY SHARE, a deadlock PostgreSQL broke by
failing one of them. The ideas are locked at the strength the decisions take."""

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.account.models import Role
from app.idea.models import Idea, IdeaStatus
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient
from tests.support_locks import queued_behind


def test_a_bulk_approval_does_not_deadlock_with_a_writer_referencing_an_idea(
        client: WebClient, session: Session) -> None:
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: no row locks to order")
    call = make_call(session, phase="submissions", premoderation=True)
    first, second = make_idea(session, call, status="submitted"), make_idea(session, call, status="submitted")
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    ids = [str(first.id), str(second.id)]
    client.login_as(moderator)
    token = client.csrf()
    answers: list[int] = []

    def reference(s: Session) -> None:  # a row pointing to the idea is being added (its KEY SHARE)
        s.execute(text("SELECT id FROM idea WHERE id = :id FOR KEY SHARE"), {"id": second.id})

    def approve(_s: Session) -> None:
        answers.append(client.post("/moderation/bulk-approve", data={"idea_ids": ids, "csrf_token": token},
                                   follow_redirects=False).status_code)

    def change(s: Session) -> None:  # ... and the same writer then changes the idea
        s.execute(text("UPDATE idea SET updated_at = updated_at WHERE id = :id"), {"id": second.id})

    errors = queued_behind(client, reference, approve, then=change)
    assert errors == [] and answers == [303]
    session.expire_all()
    assert [session.get(Idea, first.id).status, session.get(Idea, second.id).status] == [  # type: ignore[union-attr]
        IdeaStatus.published, IdeaStatus.published]


def test_an_idea_decided_while_a_bulk_approval_waited_for_it_is_skipped_and_the_others_approved(
        client: WebClient, session: Session) -> None:
    # Another moderator rejects one of the ideas while the bulk approval waits for its lock: the
    # approval read it as submitted before, and deciding it from that read failed the whole
    # bulk (InvalidTransition once the decision read it again): none of the 3 approved.
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: the approval reads after the other's commit")
    call = make_call(session, phase="submissions", premoderation=True)
    first, taken, last = (make_idea(session, call, status="submitted") for _ in range(3))
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    client.login_as(moderator)
    token = client.csrf()
    answers: list[str] = []

    def other_moderator(s: Session) -> None:
        s.execute(text("SELECT id FROM idea WHERE id = :id FOR UPDATE"), {"id": taken.id})

    def approve(_s: Session) -> None:
        answer = client.post("/moderation/bulk-approve", data={
            "idea_ids": [str(first.id), str(taken.id), str(last.id)], "csrf_token": token}, follow_redirects=False)
        answers.append(f"{answer.status_code} {answer.headers.get('location', '')}")

    def reject(s: Session) -> None:
        s.execute(text("UPDATE idea SET status = 'rejected' WHERE id = :id"), {"id": taken.id})

    assert queued_behind(client, other_moderator, approve, then=reject) == []
    assert answers and answers[0].startswith("303 /moderation"), answers
    page = client.get(answers[0].split(" ", 1)[1]).text
    assert "2 idées approuvées." in page and "1 idée ignorée" in page
    session.expire_all()
    assert [session.get(Idea, i.id).status for i in (first, taken, last)] == [  # type: ignore[union-attr]
        IdeaStatus.published, IdeaStatus.rejected, IdeaStatus.published]
