"""News for many people: the first of them told in the action's own transaction, the others by
the worker a page at a time (app.notify.audiences, app.notify.fanout). The pages are made small
here; the real ones tell 100 people in the request and 200 per worker transaction."""

import pytest
from sqlmodel import Session, select

from app.clock import utcnow
from app.comment.models import Comment
from app.follow import service as follow_service
from app.idea.models import Idea
from app.notify import audiences, fanout
from app.notify import service as notify
from app.notify.models import Notification
from app.outbox.models import OutboxMessage, OutboxStatus
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audiences, "IN_REQUEST", 3)
    monkeypatch.setattr(audiences, "BATCH", 2)


def told(session: Session, **where: object) -> list[int]:
    session.expire_all()
    rows = session.exec(select(Notification).filter_by(**where)).all()
    return sorted(n.user_id for n in rows)


def pages_queued(session: Session) -> int:
    return len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == audiences.FANOUT_KIND)).all())


def commented_by_one_of_nine_followers(client: WebClient, session: Session) -> Comment:
    """A comment posted through the site on an idea that its writer and 8 others follow."""
    idea = make_idea(session, make_call(session, phase="voting"))
    writer = make_user(session)
    for person in [writer, *(make_user(session) for _ in range(8))]:
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    session.commit()
    client.login_as(writer)
    assert client.submit(f"/ideas/{idea.id}/comments", {"body": "Un avis pour tout le monde."}).status_code == 303
    return session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()


def test_a_comment_tells_the_first_followers_at_once_and_the_others_through_the_worker(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title="Des bancs au parc")
    writer = make_user(session, email="camille@example.org")
    followers = [make_user(session, email=f"lecteur{n}@example.org") for n in range(8)]
    for person in [writer, *followers]:
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    session.commit()

    mail_client.login_as(writer)
    assert mail_client.submit(f"/ideas/{idea.id}/comments", {"body": "Oui, à l'ombre."}).status_code == 303
    comment = session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()
    first = told(session, comment_id=comment.id)
    assert len(first) == 2 and set(first) <= {p.id for p in followers}  # 3 read, the writer among them
    assert pages_queued(session) == 1

    mail_client.run_worker()
    assert told(session, comment_id=comment.id) == sorted(p.id for p in followers)  # each once, never the writer
    assert pages_queued(session) == 4  # 3 in the request, then 2, 2, 2 and the last
    for person in followers:
        assert len(smtp.to(person.email)) == 1, person.email
    assert smtp.to("camille@example.org") == []


def test_a_comment_hidden_before_the_worker_goes_on_is_told_to_nobody_more(client: WebClient,
                                                                             session: Session) -> None:
    comment = commented_by_one_of_nine_followers(client, session)
    before = told(session, comment_id=comment.id)
    assert len(before) == 2 and pages_queued(session) == 1  # the others are the worker's
    comment.hidden_at = utcnow()
    session.add(comment)
    session.commit()
    client.run_worker()
    assert told(session, comment_id=comment.id) == before


def test_an_idea_hidden_before_the_worker_goes_on_has_its_news_told_to_nobody_more(
        client: WebClient, session: Session) -> None:
    # Its title would reach people who may no longer see it.
    comment = commented_by_one_of_nine_followers(client, session)
    idea = session.get(Idea, comment.idea_id)
    assert idea is not None
    before = told(session, comment_id=comment.id)
    assert len(before) == 2
    idea.hidden_at = utcnow()
    session.add(idea)
    session.commit()
    client.run_worker()
    assert told(session, comment_id=comment.id) == before


def test_results_reach_every_participant_but_those_suspended_meanwhile(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="results")
    people = [make_user(session) for _ in range(9)]
    for person in people:
        idea = make_idea(session, call, person, status="published")
        follow_service.follow(session, idea_id=idea.id, user_id=person.id)
    session.commit()
    with client.db.transaction() as tx:
        assert notify.results_published(tx, client.settings, call=call, actor=None) == 3
    suspended = people[-1]
    suspended.banned_at = utcnow()
    session.add(suspended)
    session.commit()
    client.run_worker()
    assert told(session, call_id=call.id) == sorted(p.id for p in people[:-1])


def test_a_page_run_twice_tells_nobody_twice(client: WebClient, session: Session) -> None:
    # A page's message taken up by a second worker (the first one's lease ended while it ran,
    # or it stopped after the page's commit): the second run finds the page told.
    comment = commented_by_one_of_nine_followers(client, session)
    page = session.exec(select(OutboxMessage).where(OutboxMessage.kind == audiences.FANOUT_KIND)).one()
    with client.db.transaction() as tx:  # claimed, as `outbox.claim` marks it
        claimed = tx.get(OutboxMessage, page.id)
        assert claimed is not None
        claimed.status = OutboxStatus.running
    for _run in range(2):
        fanout.run(client.settings, client.db, page.id or 0, dict(page.payload))
    assert len(told(session, comment_id=comment.id)) == 4  # 2 in the request, 2 in the page
    client.run_worker()
    rows = told(session, comment_id=comment.id)
    assert len(rows) == len(set(rows)) == 8
    assert pages_queued(session) == 4
