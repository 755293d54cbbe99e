"""Suspending an account asks for confirmation on a page of its own that names what happens
(issue 15): how many ideas and comments get hidden, the reason the person will read; nothing is
suspended, hidden or audited until that page's button is pressed."""

import pytest
from sqlmodel import Session

from app.account.models import User
from app.comment.models import Comment
from app.idea.models import Idea
from tests.factories import make_idea
from tests.moderation.helpers import audit_count, world
from tests.support import WebClient


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    assert client.get("/?lang=en").status_code == 200


def test_the_form_leads_to_a_confirmation_naming_the_consequences(client: WebClient, session: Session) -> None:
    w = world(session)
    make_idea(session, w.call, w.author, title="Une deuxième idée")
    make_idea(session, w.call, w.author, title="Un brouillon", status="draft")  # never public: not counted
    assert w.idea.id is not None
    for n in range(3):
        session.add(Comment(idea_id=w.idea.id, author_id=w.author.id, body_md=f"Commentaire {n}",
                            body_html=f"<p>Commentaire {n}</p>"))
    client.login_as(w.moderator)
    session.commit()
    page = client.submit(f"/moderation/users/{w.author.id}/ban",
                         {"reason": "Insultes <b>répétées</b>", "hide_content": "1"})
    assert page.status_code == 200
    text = page.text
    assert "2 ideas of theirs are hidden from everyone." in text
    assert "3 comments of theirs are hidden from everyone." in text
    assert "<q>Insultes &lt;b&gt;répétées&lt;/b&gt;</q>" in text  # the reason, escaped
    assert 'name="confirm" value="yes"' in text and 'class="button button-danger"' in text
    # Nothing happened yet.
    session.expire_all()
    author = session.get(User, w.author.id)
    assert author is not None and author.banned_at is None
    assert audit_count(session) == 0
    assert session.get(Idea, w.idea.id).hidden_at is None  # type: ignore[union-attr]

    done = client.submit(f"/moderation/users/{w.author.id}/ban",
                         {"reason": "Insultes répétées", "hide_content": "1", "confirm": "yes"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(User, w.author.id).banned_at is not None  # type: ignore[union-attr]
    assert session.get(Idea, w.idea.id).hidden_at is not None  # type: ignore[union-attr]


def test_without_hiding_the_page_says_their_content_stays(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    session.commit()
    page = client.submit(f"/moderation/users/{w.author.id}/ban", {"reason": "Faux compte"})
    assert page.status_code == 200 and "Their ideas and comments stay visible." in page.text
    assert 'name="hide_content"' not in page.text


def test_a_missing_reason_is_asked_for_before_the_confirmation(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    session.commit()
    page = client.submit(f"/moderation/users/{w.author.id}/ban", {"reason": " "})
    assert page.status_code == 422 and "Please give the reason for the suspension." in page.text
    assert 'name="confirm"' not in page.text


def test_citizens_never_reach_the_confirmation(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.citizen)
    session.commit()
    assert client.submit(f"/moderation/users/{w.author.id}/ban", {"reason": "Essai"}).status_code == 403
