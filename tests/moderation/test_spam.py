"""Spam protection: new accounts posting links are held for review; per-person rate limits on
ideas and comments answer with a clear message and write nothing."""

from datetime import timedelta

from sqlmodel import Session, col, func, select

from app import posting_policy
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea
from app.report.models import Report
from tests.factories import make_call, make_idea, make_user
from tests.moderation.helpers import audit_count, notifications_for
from tests.support import WebClient


def _old(session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    user = make_user(session, **kwargs)  # type: ignore[arg-type]
    user.created_at = utcnow() - timedelta(days=3)
    session.add(user)
    return user


def test_link_detection() -> None:
    assert posting_policy.has_link("Voir https://exemple.be/page") and posting_policy.has_link("www.promo.example")
    assert posting_policy.has_link("achetez sur pilules-pas-cheres.com !")
    assert not posting_policy.has_link("Plus de bancs place Saint-Lambert, s.v.p. Merci.")


def test_a_new_account_posting_a_link_waits_for_a_moderator(client: WebClient, session: Session) -> None:
    call = make_call(session, premoderation=False)
    newcomer = make_user(session)
    regular = _old(session)
    session.commit()
    data = {"title": "Une idée avec un lien", "body_md": "Tout est expliqué sur https://exemple.be/projet"}

    client.login_as(newcomer)
    assert client.submit(f"/calls/{call.slug}/ideas/new", data).status_code == 303
    client.login_as(regular)
    assert client.submit(f"/calls/{call.slug}/ideas/new", data).status_code == 303

    session.expire_all()
    by_author = {i.author_id: i for i in session.exec(select(Idea)).all()}
    assert by_author[newcomer.id].status == "submitted"
    assert by_author[regular.id].status == "published"
    assert audit_count(session, action="hold") == 1
    moderator = make_user(session, role="moderator")
    session.commit()
    queue = client.login_as(moderator).get("/moderation")
    assert "Une idée avec un lien" in queue.text


def test_a_new_account_comment_with_a_link_is_hidden_and_queued(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = _old(session)
    idea = make_idea(session, call, author, status="published")
    newcomer = make_user(session)
    session.commit()
    client.login_as(newcomer)
    response = client.submit(f"/ideas/{idea.id}/comments", {"body": "Promo sur www.pilules.example.com"})
    assert response.status_code == 303
    session.expire_all()
    comment = session.exec(select(Comment)).one()
    assert comment.hidden_at is not None
    report = session.exec(select(Report)).one()
    assert (report.target_type, report.target_id, report.resolved_at) == ("comment", comment.id, None)
    assert notifications_for(session, author) == []  # nobody is told about a held comment
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    queue = client.get("/moderation", params={"tab": "reported"})
    assert f"#comment-{comment.id}" in queue.text
    assert client.submit(f"/moderation/comments/{comment.id}/restore").status_code == 303
    session.expire_all()
    assert session.get(Comment, comment.id).hidden_at is None  # type: ignore[union-attr]


def test_comment_rate_limit_has_a_clear_message_and_writes_nothing(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, _old(session), status="published")
    talker = _old(session)
    session.commit()
    client.login_as(talker)
    limit = posting_policy.LIMITS["comment"][0]
    for n in range(limit):
        assert client.submit(f"/ideas/{idea.id}/comments", {"body": f"Remarque {n}"}).status_code == 303
    refused = client.submit(f"/ideas/{idea.id}/comments", {"body": "Encore une"}, follow_redirects=True)
    assert "Vous commentez très rapidement" in refused.text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Comment)).one() == limit


def test_idea_rate_limit_answers_429_with_a_clear_message(client: WebClient, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=50)
    author = _old(session)
    session.commit()
    client.login_as(author)
    limit = posting_policy.LIMITS["idea"][0]
    for n in range(limit):
        data = {"title": f"Idée numéro {n} pour le quartier", "body_md": "Une description suffisante."}
        assert client.submit(f"/calls/{call.slug}/ideas/new", data).status_code == 303
    refused = client.submit(f"/calls/{call.slug}/ideas/new",
                            {"title": "Une de trop pour le quartier", "body_md": "Une description suffisante."})
    assert refused.status_code == 429 and "Vous proposez des idées très rapidement" in refused.text
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Idea).where(col(Idea.author_id) == author.id)).one() == limit


def test_staff_are_not_limited(session: Session) -> None:
    moderator = make_user(session, role="moderator")
    for _ in range(posting_policy.LIMITS["comment"][0] + 3):
        assert posting_policy.check_posting(session, moderator, "https://ville.example.be", "comment") is False


def test_adding_a_link_later_by_editing_is_held_too(client: WebClient, session: Session) -> None:
    from app.idea import service as idea_service  # noqa: PLC0415

    call = make_call(session, premoderation=False)
    newcomer = make_user(session)
    idea = make_idea(session, call, newcomer, status="published", title="Une idée sans lien au départ")
    session.commit()
    client.login_as(newcomer)
    assert client.submit(f"/ideas/{idea.id}/comments", {"body": "Un avis sans lien."}).status_code == 303
    session.expire_all()
    comment = session.exec(select(Comment)).one()
    assert comment.hidden_at is None
    edited = client.submit(f"/comments/{comment.id}/edit", {"body": "Visitez www.promo-pas-chere.example.com"})
    assert edited.status_code == 303
    session.expire_all()
    comment = session.exec(select(Comment)).one()
    assert comment.hidden_at is not None
    assert session.exec(select(Report).where(col(Report.resolved_at).is_(None))).one().target_id == comment.id

    fresh = session.get(Idea, idea.id)
    assert fresh is not None
    idea_service.update_idea(session, client.settings, call, fresh, newcomer, data=idea_service.IdeaInput(
        title=fresh.title, body_md="Tout sur https://exemple.example.com/offre"))
    session.commit()
    session.expire_all()
    held = session.get(Idea, idea.id)
    assert held is not None and held.status == "submitted"
    assert audit_count(session, action="hold") == 2
