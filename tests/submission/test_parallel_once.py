"""Identical submissions arriving together (a double tap, a retrying phone) create one row,
on SQLite and PostgreSQL: the live server answers them in parallel."""

import secrets

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from app.account.models import User
from app.comment.models import Comment
from app.idea.models import Idea
from app.outbox.models import OutboxMessage
from app.security import CSRF_COOKIE, csrf_token_for
from app.submission.service import new_token
from tests.factories import make_call, make_idea, make_user
from tests.support import LiveServer
from tests.vote.parallel import browser, in_parallel, session_token

COPIES = 6


def _count(session: Session, query: object) -> int:
    session.expire_all()
    return int(session.exec(query).one())  # type: ignore[call-overload]


def test_parallel_copies_of_an_idea_form_create_one_idea(live_server: LiveServer, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=3)
    author = make_user(session)
    session.commit()
    token = session_token(session, author)
    url = f"/calls/{call.slug}/ideas/new"
    form = {"title": "Un potager partagé", "body_md": "Un potager pour les voisins, rue Saint-Léonard.",
            "action": "submit", "form_token": new_token()}

    def send(_i: int) -> tuple[int, str]:
        with browser(live_server, token, json=False) as http:
            response = http.post(url, data=form)
            return response.status_code, response.headers.get("location", "")

    answers = in_parallel(COPIES, send)
    assert {code for code, _ in answers} == {303}
    assert len({location for _, location in answers}) == 1
    assert _count(session, select(func.count()).select_from(Idea).where(Idea.author_id == author.id)) == 1


def test_parallel_copies_of_a_comment_create_one_comment(live_server: LiveServer, session: Session) -> None:
    idea = make_idea(session, make_call(session))
    user = make_user(session)
    session.commit()
    token = session_token(session, user)
    url = f"/ideas/{idea.id}/comments"
    form = {"body": "Une seule fois, même envoyé six fois.", "form_token": new_token()}

    def send(i: int) -> int:
        # Half send as the page's script does, half as a plain form.
        with browser(live_server, token, json=i % 2 == 0) as http:
            headers = {"X-Requested-With": "fetch"} if i % 2 == 0 else {}
            response = http.post(url, data=form, headers=headers)
            return response.status_code

    codes = in_parallel(COPIES, send)
    assert set(codes) <= {201, 303}, codes
    assert _count(session, select(func.count()).select_from(Comment).where(Comment.idea_id == idea.id)) == 1
    assert _count(session, select(Idea.comment_count).where(Idea.id == idea.id)) == 1


def test_parallel_copies_of_a_registration_create_one_account(live_server: LiveServer, session: Session) -> None:
    form = {"email": "double@example.org", "display_name": "Double Tap", "password": "une phrase assez longue",
            "form_token": new_token()}
    secret = live_server.app.state.settings.resolved_secret_key

    def send(_i: int) -> int:
        seed = secrets.token_urlsafe(16)
        with httpx.Client(base_url=live_server.url, cookies={CSRF_COOKIE: seed}, timeout=60,
                          headers={"X-CSRF-Token": csrf_token_for(secret, seed)}) as http:
            return http.post("/account/register", data=form).status_code

    assert in_parallel(COPIES, send) == [200] * COPIES
    assert _count(session, select(func.count()).select_from(User).where(User.email == "double@example.org")) == 1
    assert _count(session, select(func.count()).select_from(OutboxMessage)) == 1  # one confirmation e-mail


def test_parallel_different_ideas_with_tokens_keep_the_limit(live_server: LiveServer, session: Session) -> None:
    """Each form claims its token (a row that references the person) before the ideas service
    takes the person's lock: the lock must not wait on those references, or two of the person's
    own forms would wait on each other (a deadlock, a 500 on PostgreSQL)."""
    call = make_call(session, ideas_per_citizen=3)
    author = make_user(session)
    session.commit()
    token = session_token(session, author)
    url = f"/calls/{call.slug}/ideas/new"

    def send(i: int) -> int:
        with browser(live_server, token, json=False) as http:
            form = {"title": f"Idée parallèle {i}", "action": "draft", "form_token": new_token()}
            return http.post(url, data=form).status_code

    assert sorted(in_parallel(COPIES, send)) == [303] * 3 + [422] * (COPIES - 3)
    assert _count(session, select(func.count()).select_from(Idea).where(Idea.author_id == author.id)) == 3
