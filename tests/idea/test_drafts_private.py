"""A draft is seen by its author only, as the author is told ("only you can see it until you
submit it"): not by moderators nor administrators, on any page that shows or lists ideas, nor its
photos (issue 10, finding 2). Once submitted, moderators see it as before."""

import pytest
from sqlmodel import Session

from app.account.models import Role, User
from app.idea.models import Idea, IdeaStatus
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import add_photo
from tests.support import WebClient

SECRET = "Brouillon très personnel"


def _pages(idea: Idea, photo_id: int, author: User) -> list[str]:
    return [f"/ideas/{idea.id}", f"/ideas/{idea.id}/photos/{photo_id}/display",
            f"/ideas/{idea.id}/photos/{photo_id}/thumb", f"/moderation/ideas/{idea.id}"]


def _listings(author: User, slug: str, viewer: User) -> list[str]:
    staff = [f"/moderation/users/{author.id}", "/moderation", "/moderation?tab=reported", "/moderation?tab=answers",
             f"/calls/{slug}", f"/calls/{slug}/ideas.csv", f"/api/calls/{slug}/ideas"]
    return staff + (["/admin/audit", "/admin/dialogue", "/admin/users"] if viewer.role == Role.admin else [])


@pytest.mark.parametrize("never_submitted", ["draft", "withdrawn draft"])
def test_staff_never_see_a_draft(client: WebClient, session: Session, settings: Settings,
                                 never_submitted: str) -> None:
    call = make_call(session, phase="submissions")
    author = make_user(session, display_name="Autrice Discrète")
    status = IdeaStatus.draft if never_submitted == "draft" else IdeaStatus.withdrawn
    draft = make_idea(session, call, author, title=SECRET, status=status, body="Texte du brouillon, pas encore prêt")
    photo = add_photo(session, settings, draft, alt="Photo du brouillon")
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    session.commit()
    assert photo.id is not None

    for viewer in (moderator, admin):
        client.cookies.clear()
        client.login_as(viewer)
        for url in _pages(draft, photo.id, author):
            response = client.get(url)
            assert response.status_code == 404, (viewer.role, url)
            assert SECRET not in response.text
            assert not response.headers["content-type"].startswith("image/")
        for url in _listings(author, call.slug, viewer):
            response = client.get(url)
            assert response.status_code == 200, url
            assert SECRET not in response.text, (viewer.role, url)
        # Nor through a decision posted by hand: nothing happens and nothing is said about it.
        for action, form in (("hide", {"reason": "Pour voir"}), ("approve", {}), ("reject", {"reason": "x" * 10}),
                             ("answer", {"answer_status": "accepted", "answer_md": "Oui, bien sûr"})):
            response = client.submit(f"/moderation/ideas/{draft.id}/{action}", form)
            assert response.status_code == 404, (viewer.role, action)
            assert SECRET not in response.text
        merged = client.submit(f"/moderation/ideas/{make_idea(session, call).id}/merge",
                               {"target_id": str(draft.id), "note": ""})
        assert SECRET not in merged.text
        session.commit()
    session.expire_all()
    stored = session.get(Idea, draft.id)
    assert stored is not None and stored.status == status and stored.hidden_at is None

    client.cookies.clear()
    client.login_as(author)
    assert SECRET in client.get(f"/ideas/{draft.id}").text
    assert client.get(f"/ideas/{draft.id}/photos/{photo.id}/display").status_code == 200


def test_once_submitted_moderators_see_it_and_its_photos(client: WebClient, session: Session,
                                                         settings: Settings) -> None:
    call = make_call(session, phase="submissions", premoderation=True)
    author = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    client.login_as(author)
    created = client.submit(f"/calls/{call.slug}/ideas/new", {
        "title": SECRET, "body_md": "Une idée qui mérite un peu de texte pour être claire.", "action": "draft"})
    assert created.status_code == 303
    idea_id = int(created.headers["location"].rsplit("/", 1)[1])
    draft = session.get(Idea, idea_id)
    assert draft is not None and draft.status == IdeaStatus.draft
    photo = add_photo(session, settings, draft)
    session.commit()

    client.cookies.clear()
    client.login_as(moderator)
    assert client.get(f"/moderation/ideas/{idea_id}").status_code == 404
    assert SECRET not in client.get(f"/moderation/users/{author.id}").text

    client.cookies.clear()
    client.login_as(author)
    assert client.submit(f"/ideas/{idea_id}/submit").status_code == 303
    client.cookies.clear()
    client.login_as(moderator)
    assert SECRET in client.get(f"/moderation/ideas/{idea_id}").text
    assert SECRET in client.get(f"/moderation/users/{author.id}").text
    assert SECRET in client.get("/moderation").text
    assert client.get(f"/ideas/{idea_id}/photos/{photo.id}/display").status_code == 200

    # Withdrawn after it was submitted: moderators already saw it, and still may.
    client.cookies.clear()
    client.login_as(author)
    assert client.submit(f"/ideas/{idea_id}/withdraw", {"confirm": "yes"}).status_code == 303
    client.cookies.clear()
    client.login_as(moderator)
    assert client.get(f"/moderation/ideas/{idea_id}").status_code == 200
