"""A create form sent twice (a double tap on a slow phone, a retry) creates once, and the second
answer is the first one's: the same redirect and message. Each case reads the form's one-time
token from the page that shows the form, as a browser would send it."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.account.models import Role, User
from app.call.models import Call, Category, District
from app.comment.models import Comment
from app.idea.models import Idea, IdeaPhoto, IdeaStatusChange
from app.media.models import UploadCharge
from app.report.models import Report
from app.submission.models import FormSubmission
from tests.factories import DEFAULT_PASSWORD, make_call, make_idea, make_user
from tests.idea.helpers import png
from tests.support import WebClient

TOKEN = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)"')


def token_in(html: str, action: str) -> str:
    """The one-time token of the form posting to `action` on the page."""
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.S):
        if f'action="{action}"' in form:
            found = TOKEN.search(form)
            assert found, f"the form to {action} has no one-time token"
            return found.group(1)
    raise AssertionError(f"no form posts to {action}")


def rows(session: Session, model: type[SQLModel], *where: Any) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


@dataclass
class Case:
    page: str  # where the form is shown
    action: str  # where it posts
    data: dict[str, Any]
    count: Callable[[], int]  # the rows the form creates
    files: dict[str, Any] | None = None


def _idea(client: WebClient, session: Session) -> Case:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    return Case(f"/calls/{call.slug}/ideas/new", f"/calls/{call.slug}/ideas/new",
                {"title": "Des bancs au parc d'Avroy", "body_md": "Des bancs à l'ombre pour les aînés du quartier.",
                 "action": "submit", "alt_photo_1": "Un banc à l'ombre"},
                lambda: rows(session, Idea, Idea.author_id == author.id),
                files={"photo_1": ("banc.png", png(), "image/png")})


def _idea_edit_with_photo(client: WebClient, session: Session) -> Case:
    call = make_call(session)
    author = make_user(session)
    idea = make_idea(session, call, author, status="draft")
    session.commit()
    client.login_as(author)
    return Case(f"/ideas/{idea.id}/edit", f"/ideas/{idea.id}/edit",
                {"title": idea.title, "body_md": idea.body_md, "action": "save", "alt_photo_1": "Un banc vide"},
                lambda: rows(session, IdeaPhoto, IdeaPhoto.idea_id == idea.id),
                files={"photo_1": ("banc.png", png(), "image/png")})


def _comment(client: WebClient, session: Session) -> Case:
    idea = make_idea(session, make_call(session))
    user = make_user(session)
    session.commit()
    client.login_as(user)
    return Case(f"/ideas/{idea.id}", f"/ideas/{idea.id}/comments", {"body": "Bonne idée, je soutiens !"},
                lambda: rows(session, Comment, Comment.idea_id == idea.id))


def _reply(client: WebClient, session: Session) -> Case:
    idea = make_idea(session, make_call(session))
    user = make_user(session)
    session.commit()
    parent = Comment(idea_id=idea.id, author_id=idea.author_id, body_md="Première", body_html="<p>Première</p>")
    session.add(parent)
    session.commit()
    client.login_as(user)
    return Case(f"/ideas/{idea.id}/comments/new?reply_to={parent.id}", f"/ideas/{idea.id}/comments",
                {"body": "Je réponds une seule fois.", "parent_id": str(parent.id)},
                lambda: rows(session, Comment, Comment.parent_id == parent.id))


def _report_idea(client: WebClient, session: Session) -> Case:
    idea = make_idea(session, make_call(session, report_threshold=10))
    user = make_user(session)
    session.commit()
    client.login_as(user)
    return Case(f"/ideas/{idea.id}/report", f"/ideas/{idea.id}/report", {"reason": "spam", "details": ""},
                lambda: rows(session, Report, Report.reporter_id == user.id))


def _report_comment(client: WebClient, session: Session) -> Case:
    idea = make_idea(session, make_call(session, report_threshold=10))
    user = make_user(session)
    session.commit()
    comment = Comment(idea_id=idea.id, author_id=idea.author_id, body_md="Achetez ici", body_html="<p>x</p>")
    session.add(comment)
    session.commit()
    client.login_as(user)
    return Case(f"/comments/{comment.id}/report", f"/comments/{comment.id}/report", {"reason": "spam"},
                lambda: rows(session, Report, Report.reporter_id == user.id))


def _registration(client: WebClient, session: Session) -> Case:
    return Case("/account/register", "/account/register",
                {"email": "ines@example.org", "display_name": "Inès", "password": "une phrase assez longue"},
                lambda: rows(session, User, User.email == "ines@example.org"))


def _admin(client: WebClient, session: Session) -> None:
    client.login_as(make_user(session, role=Role.admin))
    session.commit()


def _admin_call(client: WebClient, session: Session) -> Case:
    _admin(client, session)
    return Case("/admin/calls/new", "/admin/calls/new",
                {"title": "Liège 2030", "slug": "liege-2030", "ideas_per_citizen": "3", "votes_per_citizen": "3",
                 "vote_scope": "call", "report_threshold": "3"},
                lambda: rows(session, Call))


def _admin_category(client: WebClient, session: Session) -> Case:
    call = make_call(session)
    _admin(client, session)
    return Case(f"/admin/calls/{call.id}", f"/admin/calls/{call.id}/categories",
                {"category_name": "Mobilité douce", "position": "1"},
                lambda: rows(session, Category, Category.call_id == call.id))


def _admin_district(client: WebClient, session: Session) -> Case:
    _admin(client, session)
    return Case("/admin/districts", "/admin/districts", {"name": "Outremeuse", "position": "1"},
                lambda: rows(session, District))


def _answer(client: WebClient, session: Session) -> Case:
    idea = make_idea(session, make_call(session, phase="review"))
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    client.login_as(moderator)
    return Case(f"/moderation/ideas/{idea.id}", f"/moderation/ideas/{idea.id}/answer",
                {"answer_status": "accepted", "answer_md": "Nous installerons dix bancs."},
                lambda: rows(session, IdeaStatusChange, IdeaStatusChange.idea_id == idea.id,
                             IdeaStatusChange.to_status == "answered"))


CASES = {
    "idea": _idea, "idea-edit-photo": _idea_edit_with_photo, "comment": _comment, "reply": _reply,
    "report-idea": _report_idea, "report-comment": _report_comment, "registration": _registration,
    "admin-call": _admin_call, "admin-category": _admin_category, "admin-district": _admin_district,
    "answer": _answer,
}


@pytest.mark.parametrize("name", CASES)
def test_a_form_sent_twice_creates_once_and_answers_alike(client: WebClient, session: Session, name: str) -> None:
    case = CASES[name](client, session)
    before = case.count()
    token = token_in(client.get(case.page).text, case.action)
    data = {**case.data, "form_token": token}
    first = client.submit(case.action, data, files=case.files)
    second = client.submit(case.action, data, files=case.files)
    assert first.status_code in (200, 303), first.text[:2000]
    assert case.count() == before + 1
    assert second.status_code == first.status_code
    assert second.headers.get("location") == first.headers.get("location")
    if first.status_code == 303:
        assert "set-cookie" in second.headers  # the same message, flashed again


def test_a_changed_form_sent_with_the_same_token_is_a_new_idea(client: WebClient, session: Session) -> None:
    """Back, change the text, send again: the person meant a second idea."""
    case = _idea(client, session)
    token = token_in(client.get(case.page).text, case.action)
    first = client.submit(case.action, {**case.data, "form_token": token})
    second = client.submit(case.action, {**case.data, "title": "Des bancs et des arbres", "form_token": token})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]
    assert case.count() == 2


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "<script>alert(1)</script>", "a" * 22 + "!"])
def test_a_missing_or_malformed_token_changes_nothing_else(client: WebClient, session: Session, token: str) -> None:
    """Pages from before the token, and scripts, still work: each sending is carried out."""
    case = _comment(client, session)
    for _ in range(2):
        assert client.submit(case.action, {**case.data, "form_token": token}).status_code == 303
    assert case.count() == 2


def test_the_idea_slot_is_not_used_by_a_repeat(client: WebClient, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=2)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    url = f"/calls/{call.slug}/ideas/new"
    token = token_in(client.get(url).text, url)
    draft = {"title": "Une idée envoyée deux fois", "action": "draft", "form_token": token}
    assert client.submit(url, draft).status_code == 303
    assert client.submit(url, draft).status_code == 303
    other = {"title": "Une seconde idée", "action": "draft", "form_token": token_in(client.get(url).text, url)}
    assert client.submit(url, other).status_code == 303  # the second slot was still free
    assert rows(session, Idea, Idea.author_id == author.id) == 2


def test_a_script_sending_a_comment_twice_gets_the_same_comment(client: WebClient, session: Session) -> None:
    case = _comment(client, session)
    token = token_in(client.get(case.page).text, case.action)
    headers = {"X-Requested-With": "fetch", "Accept": "application/json"}
    first = client.submit(case.action, {**case.data, "form_token": token}, headers=headers)
    second = client.submit(case.action, {**case.data, "form_token": token}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["message"] == second.json()["message"] == "Votre commentaire est publié."
    assert case.count() == 1


def test_deleting_my_account_erases_my_sent_forms_and_photo_counts(client: WebClient, session: Session) -> None:
    case = _idea(client, session)
    token = token_in(client.get(case.page).text, case.action)
    assert client.submit(case.action, {**case.data, "form_token": token}, files=case.files).status_code == 303
    author_id = session.exec(select(Idea.author_id)).one()
    assert rows(session, FormSubmission, FormSubmission.user_id == author_id) == 1
    assert rows(session, UploadCharge, UploadCharge.user_id == author_id) == 1
    assert client.submit("/account/delete", {"password": DEFAULT_PASSWORD}).status_code == 303
    assert rows(session, FormSubmission, FormSubmission.user_id == author_id) == 0
    assert rows(session, UploadCharge, UploadCharge.user_id == author_id) == 0
