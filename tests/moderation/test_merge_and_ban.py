"""Merging duplicates keeps vote totals exact; a ban ends every session of the banned person."""

from sqlmodel import Session, col, func, select

from app.account.models import User, UserSession
from app.follow import service as follow_service
from app.follow.models import Follow
from app.idea.models import Idea
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.moderation.helpers import audit_count, emails_to, history, notifications_for, world
from tests.support import WebClient


def _idea(session: Session, idea_id: int | None) -> Idea:
    session.expire_all()
    idea = session.get(Idea, idea_id)
    assert idea is not None
    return idea


def test_merge_moves_votes_without_double_counting(client: WebClient, session: Session) -> None:
    w = world(session, phase="voting", status="published")
    keep = make_idea(session, w.call, status="published", title="Des bancs partout")
    both, only_dup, only_keep = (make_user(session) for _ in range(3))
    session.commit()
    for voter, ideas in ((both, (w.idea, keep)), (only_dup, (w.idea,)), (only_keep, (keep,))):
        for idea in ideas:
            vote_service.cast_vote(session, idea=idea, call=w.call, user=voter)
    follow_service.follow(session, idea_id=w.idea.id, user_id=w.citizen.id)
    for idea in (w.idea, keep):
        follow_service.follow(session, idea_id=idea.id, user_id=both.id)
    session.commit()
    assert (_idea(session, w.idea.id).vote_count, _idea(session, keep.id).vote_count) == (2, 2)

    client.login_as(w.moderator)
    bad = client.submit(f"/moderation/ideas/{w.idea.id}/merge", {"target_id": str(w.idea.id)})
    assert bad.status_code == 422 and audit_count(session) == 0
    response = client.submit(f"/moderation/ideas/{w.idea.id}/merge",
                             {"target_id": str(keep.id), "note": "Même proposition."})
    assert response.status_code == 303

    source, target = _idea(session, w.idea.id), _idea(session, keep.id)
    assert (source.status, source.merged_into_id, source.vote_count) == ("merged", keep.id, 0)
    rows = session.exec(select(func.count()).select_from(Vote).where(Vote.idea_id == keep.id)).one()
    assert target.vote_count == rows == vote_service.count_rows(session, keep.id) == 3
    assert session.exec(select(func.count()).select_from(Vote).where(Vote.idea_id == w.idea.id)).one() == 0
    voters = set(session.exec(select(Vote.user_id).where(Vote.idea_id == keep.id)).all())
    assert voters == {both.id, only_dup.id, only_keep.id}
    # Followers moved too, each once, and the counter equals the rows.
    followers = set(session.exec(select(Follow.user_id).where(Follow.idea_id == keep.id)).all())
    assert w.citizen.id in followers and both.id in followers
    assert target.follower_count == len(followers)
    assert audit_count(session) == 1 and audit_count(session, action="merge") == 1
    assert history(session, w.idea.id)[-1].note == "Même proposition."
    # Both authors are told.
    assert len(notifications_for(session, w.author)) == 1
    assert keep.author_id is not None
    keep_author = session.get(User, keep.author_id)
    assert keep_author is not None and len(notifications_for(session, keep_author)) == 1
    # The merged idea's page leads to the one kept.
    visitor = WebClient(client.app, base_url="http://testserver")
    page = visitor.get(f"/ideas/{w.idea.id}", follow_redirects=False)
    assert page.status_code in (301, 302, 303, 307, 308) and page.headers["location"].endswith(f"/ideas/{keep.id}")


def test_merge_refuses_another_call(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    elsewhere = make_idea(session, make_call(session), status="published")
    session.commit()
    client.login_as(w.moderator)
    response = client.submit(f"/moderation/ideas/{w.idea.id}/merge", {"target_id": str(elsewhere.id)})
    assert response.status_code == 422
    assert _idea(session, w.idea.id).status == "published" and audit_count(session) == 0


def test_a_ban_ends_every_session_and_a_copied_cookie_stops_working(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    phone = WebClient(client.app, base_url="http://testserver").login_as(w.author)
    laptop = WebClient(client.app, base_url="http://testserver").login_as(w.author)
    copied = phone.cookies.get("rv_session")
    assert phone.get("/account").status_code == 200 and laptop.get("/account").status_code == 200

    client.login_as(w.moderator)
    refused = client.submit(f"/moderation/users/{w.author.id}/ban", {"reason": " "})
    assert refused.status_code == 422 and audit_count(session) == 0
    response = client.submit(f"/moderation/users/{w.author.id}/ban",
                             {"reason": "Messages injurieux répétés.", "confirm": "yes", "hide_content": "1"})
    assert response.status_code == 303

    session.expire_all()
    assert session.exec(select(func.count()).select_from(UserSession)
                        .where(UserSession.user_id == w.author.id)).one() == 0
    for browser in (phone, laptop):
        page = browser.get("/account", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/account/login")
    thief = WebClient(client.app, base_url="http://testserver")
    assert copied is not None
    thief.cookies.set("rv_session", copied)
    assert thief.get("/account", follow_redirects=False).status_code == 303
    banned = session.get(User, w.author.id)
    assert banned is not None and banned.banned_at is not None and banned.ban_reason == "Messages injurieux répétés."
    assert _idea(session, w.idea.id).hidden_at is not None
    # The moderator's decision, and what the system did because of it (issue 10, finding 3).
    assert audit_count(session, actor_id=w.moderator.id) == 1 and audit_count(session, action="ban") == 1
    assert audit_count(session, actor_id=None) == 2
    assert audit_count(session, action="end_sessions") == 1 and audit_count(session, action="hide") == 1
    assert "Messages injurieux répétés." in emails_to(session, w.author.email)[-1]["body"]
    # The moderator is still logged in.
    assert client.get("/moderation").status_code == 200


def test_moderators_cannot_ban_staff_or_themselves(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    for target in (w.admin, w.moderator):
        refused = client.submit(f"/moderation/users/{target.id}/ban", {"reason": "Essai", "confirm": "yes"})
        assert refused.status_code == 403
    session.expire_all()
    assert session.exec(select(func.count()).select_from(User).where(col(User.banned_at).is_not(None))).one() == 0
    assert audit_count(session) == 0


def test_unban_lets_the_person_log_in_again(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    client.submit(f"/moderation/users/{w.citizen.id}/ban", {"reason": "Spam", "confirm": "yes"})
    assert client.submit(f"/moderation/users/{w.citizen.id}/unban").status_code == 303
    session.expire_all()
    person = session.get(User, w.citizen.id)
    assert person is not None and person.banned_at is None
    assert audit_count(session, action="unban") == 1
    page = client.get(f"/moderation/users/{w.citizen.id}")
    assert page.status_code == 200 and "Spam" in page.text


def test_suspending_a_suspended_account_says_so_on_its_page(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    first = client.submit(f"/moderation/users/{w.citizen.id}/ban", {"reason": "Spam", "confirm": "yes"})
    assert first.status_code == 303
    again = client.submit(f"/moderation/users/{w.citizen.id}/ban", {"reason": "Encore du spam", "confirm": "yes"})
    assert again.status_code == 303 and again.headers["location"] == f"/moderation/users/{w.citizen.id}"
    page = client.get(again.headers["location"])
    assert "Ce compte est déjà suspendu." in page.text
    session.expire_all()
    person = session.get(User, w.citizen.id)
    assert person is not None and person.ban_reason == "Spam"
    assert audit_count(session, action="ban") == 1


def test_the_merge_form_offers_the_duplicates_and_a_search_instead_of_a_number(client: WebClient,
                                                                                session: Session) -> None:
    """A moderator merges by picking the idea to keep among the possible duplicates, or among
    the ideas of the call a search finds; never by typing a number."""
    from app.search import indexing

    w = world(session, phase="voting", status="published")
    w.idea.body_md = "S'asseoir au soleil."
    session.add(w.idea)
    twin = make_idea(session, w.call, status="published", title="Des bancs au parc, partout",
                     body="S'asseoir à l'ombre des arbres.")
    other = make_idea(session, w.call, status="published", title="Une fontaine d'eau potable",
                      body="Boire frais en été.")
    elsewhere = make_idea(session, make_call(session, phase="voting"), status="published",
                          title="Plus de bancs au parc de la Boverie")
    session.commit()
    indexing.rebuild(session)
    session.commit()
    client.login_as(w.moderator)
    page = client.get(f"/moderation/ideas/{w.idea.id}").text
    assert f'name="target_id" value="{twin.id}"' in page  # a possible duplicate, to pick
    assert f'value="{other.id}"' not in page and f'value="{elsewhere.id}"' not in page
    assert f'value="{w.idea.id}"' not in page.split("merge-choices")[1]  # never itself
    searched = client.get(f"/moderation/ideas/{w.idea.id}", params={"merge_q": "fontaine potable"}).text
    assert f'name="target_id" value="{other.id}"' in searched and "<details class=\"decision\" open>" in searched
    refused = client.submit(f"/moderation/ideas/{w.idea.id}/merge", {"target_id": ""})
    assert refused.status_code == 422 and "Choisissez l’idée à garder." in refused.text
    done = client.submit(f"/moderation/ideas/{w.idea.id}/merge", {"target_id": str(twin.id), "note": ""})
    assert done.status_code == 303
    assert _idea(session, w.idea.id).merged_into_id == twin.id
