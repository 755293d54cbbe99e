"""The permission matrix of ideas: action × role × call phase × idea status, table-driven.

The expectations below restate the rules independently of app/authz.py; every cell is checked
against the predicates, and a sample of cells through HTTP (pages and forms)."""

import itertools
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from app.account.models import Role, User
from app.authz import Action, can
from app.call.models import Call, Phase
from app.clock import utcnow
from app.idea.models import Idea, IdeaStatus
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

ROLES = ("anonymous", "citizen", "author", "moderator", "admin")
PHASES = tuple(Phase)
# "hidden" is a published idea hidden by moderation.
STATUSES = (*IdeaStatus, "hidden")
ACTIONS = ("view", "create", "edit", "submit", "withdraw")

PUBLIC = {IdeaStatus.published, IdeaStatus.merged}
# Status -> phases in which its author may edit / submit / withdraw it (call not pre-moderated).
EDIT = {
    IdeaStatus.draft: {Phase.submissions},
    IdeaStatus.submitted: {Phase.submissions},
    IdeaStatus.published: {Phase.submissions},
    IdeaStatus.changes_requested: {Phase.submissions, Phase.technical_review, Phase.voting, Phase.review},
}
SUBMIT = {
    IdeaStatus.draft: {Phase.submissions},
    IdeaStatus.changes_requested: {Phase.submissions, Phase.technical_review, Phase.voting, Phase.review},
}
# A participatory budget's technical review sits between submissions and voting.
WITHDRAW = {
    status: {Phase.submissions, Phase.technical_review, Phase.voting}
    for status in (IdeaStatus.draft, IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published)
}


def expected(action: str, role: str, phase: Phase, status: str, premoderation: bool = False) -> bool:
    if action == "view":
        # A draft is its author's alone ("only you can see it until you submit it").
        staff_may = role in ("moderator", "admin") and status != IdeaStatus.draft
        return status in PUBLIC or role == "author" or staff_may
    if action == "create":
        return role != "anonymous" and phase == Phase.submissions
    if role != "author" or status == "hidden":
        return False
    if action == "edit":
        if premoderation and status == IdeaStatus.published:
            return False
        return phase in EDIT.get(IdeaStatus(status), set())
    if action == "submit":
        return phase in SUBMIT.get(IdeaStatus(status), set())
    return phase in WITHDRAW.get(IdeaStatus(status), set())


@dataclass
class World:
    users: dict[str, User | None]


def _user(role: str, n: int) -> User | None:
    if role == "anonymous":
        return None
    staff = {"moderator": Role.moderator, "admin": Role.admin}.get(role, Role.citizen)
    return User(id=n, email=f"{role}@example.org", display_name=role, role=staff, email_verified_at=utcnow())


USERS = {role: _user(role, n) for n, role in enumerate(ROLES, start=1)}


def _call(phase: Phase, premoderation: bool = False) -> Call:
    return Call(id=1, slug="c", title="C", phase_override=phase, premoderation=premoderation)


def _idea(status: str) -> Idea:
    author = USERS["author"]
    assert author is not None
    idea = Idea(id=1, call_id=1, author_id=author.id, title="Une idée", status=status,
                submitted_at=None if status == IdeaStatus.draft else utcnow())
    if status == "hidden":
        idea.status, idea.hidden_at = IdeaStatus.published, utcnow()
    return idea


def _check(action: str, user: User | None, call: Call, idea: Idea) -> bool:
    if action == "view":
        return can(user, Action.idea_view, idea)
    if action == "create":
        return can(user, Action.idea_create, call)
    return can(user, Action(f"idea.{action}"), (idea, call))


CELLS = list(itertools.product(ACTIONS, ROLES, PHASES, STATUSES))


@pytest.mark.parametrize(("action", "role", "phase", "status"), CELLS)
def test_matrix_of_predicates(action: str, role: str, phase: Phase, status: str) -> None:
    got = _check(action, USERS[role], _call(phase), _idea(status))
    assert got == expected(action, role, phase, status), (action, role, phase, status)


@pytest.mark.parametrize("phase", PHASES)
def test_premoderated_call_freezes_approved_ideas(phase: Phase) -> None:
    idea = _idea(IdeaStatus.published)
    assert can(USERS["author"], Action.idea_edit, (idea, _call(phase, premoderation=True))) is False
    draft = _idea(IdeaStatus.draft)
    assert can(USERS["author"], Action.idea_edit, (draft, _call(phase, premoderation=True))) == (
        phase == Phase.submissions)


def test_answered_winner_or_banned_author_cannot_act() -> None:
    call = _call(Phase.submissions)
    answered = _idea(IdeaStatus.published)
    answered.answer_status = "accepted"
    assert not can(USERS["author"], Action.idea_edit, (answered, call))
    winner = _idea(IdeaStatus.published)
    winner.winner = True
    assert not can(USERS["author"], Action.idea_withdraw, (winner, call))
    banned = User(id=3, email="author@example.org", display_name="a", banned_at=utcnow(), email_verified_at=utcnow())
    assert not can(banned, Action.idea_edit, (_idea(IdeaStatus.draft), call))
    assert not can(banned, Action.idea_view, _idea(IdeaStatus.draft))


def test_unverified_citizen_cannot_create_and_draft_calls_are_for_admins() -> None:
    unverified = User(id=9, email="u@example.org", display_name="u")
    assert not can(unverified, Action.idea_create, _call(Phase.submissions))
    draft_call = _call(Phase.draft)
    assert [can(USERS[r], Action.call_view, draft_call) for r in ROLES] == [False, False, False, False, True]
    assert all(can(USERS[r], Action.call_view, _call(Phase.voting)) for r in ROLES)


# Through HTTP: a sample of the matrix on real pages and forms ---------------------------------

HTTP_PHASES = (Phase.submissions, Phase.voting, Phase.results)
HTTP_STATUSES = (IdeaStatus.draft, IdeaStatus.published, IdeaStatus.rejected, "hidden", IdeaStatus.changes_requested)


@pytest.mark.parametrize(("phase", "status"), list(itertools.product(HTTP_PHASES, HTTP_STATUSES)))
def test_matrix_through_http(client: WebClient, session: Session, phase: Phase, status: str) -> None:
    call = make_call(session, phase=phase)
    author = make_user(session)
    people: dict[str, User | None] = {
        "anonymous": None, "citizen": make_user(session), "author": author,
        "moderator": make_user(session, role=Role.moderator), "admin": make_user(session, role=Role.admin),
    }
    idea = make_idea(session, call, author, status=IdeaStatus.published if status == "hidden" else status,
                     title="Idée de la matrice", hidden_at=utcnow() if status == "hidden" else None,
                     submitted_at=None if status == IdeaStatus.draft else utcnow())
    session.commit()
    for role, user in people.items():
        client.cookies.clear()
        if user is not None:
            client.login_as(user)
        view = expected("view", role, phase, status)
        page = client.get(f"/ideas/{idea.id}")
        assert page.status_code == (200 if view else 404), (role, phase, status)
        if view:
            assert "Idée de la matrice" in page.text
        edit = client.get(f"/ideas/{idea.id}/edit", follow_redirects=False)
        if expected("edit", role, phase, status):
            assert edit.status_code == 200, (role, phase, status)
        elif not view:
            assert edit.status_code == 404
        elif user is None:
            assert edit.status_code == 303 and edit.headers["location"].startswith("/account/login")
        else:
            assert edit.status_code == 403, (role, phase, status)
        new = client.get(f"/calls/{call.slug}/ideas/new", follow_redirects=False)
        if expected("create", role, phase, status):
            assert new.status_code == 200
        else:
            assert new.status_code == (303 if user is None else 403)
        for action in ("submit", "withdraw"):
            if expected(action, role, phase, status):
                continue  # acting would change the idea for the next roles; covered in test_ideas
            answer = client.submit(f"/ideas/{idea.id}/{action}")
            assert answer.status_code in ((303,) if user is None and view else (404,) if not view else (403,)), (
                action, role, phase, status, answer.status_code)
    session.expire_all()
    assert session.get(Idea, idea.id).status == (IdeaStatus.published if status == "hidden" else status)  # type: ignore[union-attr]
