"""Private ideas (drafts, pending, rejected, withdrawn, hidden) never leak: page, photo URL,
listing, API and CSV answer 404 or leave them out for everyone but their author and moderators
(drafts: their author only)."""

import pytest
from sqlmodel import Session

from app.account.models import Role
from app.call.models import Phase
from app.clock import utcnow
from app.idea.models import IdeaStatus
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import add_photo
from tests.support import WebClient

PRIVATE = [IdeaStatus.draft, IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.rejected,
           IdeaStatus.withdrawn, "hidden"]


@pytest.mark.parametrize("status", PRIVATE)
def test_private_idea_is_404_everywhere_for_other_people(client: WebClient, session: Session,
                                                         settings: Settings, status: str) -> None:
    call = make_call(session, phase="submissions")
    author = make_user(session)
    other = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    secret = make_idea(session, call, author, title="Secret du quartier",
                       status=IdeaStatus.published if status == "hidden" else status,
                       hidden_at=utcnow() if status == "hidden" else None,
                       submitted_at=None if status == IdeaStatus.draft else utcnow())
    make_idea(session, call, other, title="Idée visible de tous")
    photo = add_photo(session, settings, secret)
    session.commit()
    urls = [f"/ideas/{secret.id}", f"/ideas/{secret.id}/photos/{photo.id}/display",
            f"/ideas/{secret.id}/photos/{photo.id}/thumb", f"/api/ideas/{secret.id}"]
    listings = [f"/calls/{call.slug}", f"/api/calls/{call.slug}/ideas", f"/calls/{call.slug}/ideas.csv",
                f"/calls/{call.slug}?sort=random", f"/calls/{call.slug}?sort=supported"]

    for viewer in (None, other):
        client.cookies.clear()
        if viewer is not None:
            client.login_as(viewer)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, (viewer, url)
            assert "Secret du quartier" not in response.text
            assert not response.headers["content-type"].startswith("image/")
        for url in listings:
            response = client.get(url)
            assert response.status_code == 200
            assert "Idée visible de tous" in response.text
            assert "Secret du quartier" not in response.text, url

    # The author and moderators see it (but listings, the API and the CSV stay public-only);
    # a draft is its author's alone (tests/idea/test_drafts_private.py).
    for viewer in (author, moderator) if status != IdeaStatus.draft else (author,):
        client.cookies.clear()
        client.login_as(viewer)
        assert "Secret du quartier" in client.get(f"/ideas/{secret.id}").text
        image = client.get(f"/ideas/{secret.id}/photos/{photo.id}/display")
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "private, no-store"
        assert client.get(f"/api/ideas/{secret.id}").status_code == 404
        assert "Secret du quartier" not in client.get(f"/calls/{call.slug}/ideas.csv").text


def test_author_sees_own_private_ideas_on_the_call_page(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    make_idea(session, call, author, title="Mon brouillon à moi", status=IdeaStatus.draft)
    session.commit()
    assert "Mon brouillon à moi" not in client.get(f"/calls/{call.slug}").text
    client.login_as(author)
    page = client.get(f"/calls/{call.slug}").text
    assert "Mon brouillon à moi" in page and "Brouillon" in page


def test_photo_of_another_idea_or_unknown_variant_is_404(client: WebClient, session: Session,
                                                          settings: Settings) -> None:
    call = make_call(session)
    first = make_idea(session, call)
    second = make_idea(session, call)
    photo = add_photo(session, settings, first)
    session.commit()
    assert client.get(f"/ideas/{first.id}/photos/{photo.id}/display").status_code == 200
    assert client.get(f"/ideas/{second.id}/photos/{photo.id}/display").status_code == 404
    assert client.get(f"/ideas/{first.id}/photos/{photo.id}/original").status_code == 404
    assert client.get(f"/ideas/{first.id}/photos/{photo.id}/..%2F..%2Fapp").status_code == 404


def test_draft_call_is_for_administrators_only(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="draft", title="Appel en préparation")
    idea = make_idea(session, call, title="Idée d'un appel caché")
    admin = make_user(session, role=Role.admin)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    for viewer in (None, moderator):
        client.cookies.clear()
        if viewer:
            client.login_as(viewer)
        for url in (f"/calls/{call.slug}", f"/api/calls/{call.slug}", f"/api/calls/{call.slug}/ideas",
                    f"/calls/{call.slug}/ideas.csv", f"/ideas/{idea.id}", f"/api/ideas/{idea.id}"):
            assert client.get(url).status_code == 404, url
        assert "Appel en préparation" not in client.get("/").text
        assert "Appel en préparation" not in client.get("/api/calls").text
    client.login_as(admin)
    assert client.get(f"/calls/{call.slug}").status_code == 200
    assert "Appel en préparation" in client.get("/").text


def test_merged_idea_redirects_to_the_idea_it_joined(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    target = make_idea(session, call, title="Idée principale")
    merged = make_idea(session, call, status=IdeaStatus.merged, merged_into_id=target.id)
    session.commit()
    response = client.get(f"/ideas/{merged.id}", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"] == f"/ideas/{target.id}"
