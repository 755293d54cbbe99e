"""The platform always keeps an active administrator, even when two decisions that each leave one
administrator are taken at the same moment: demoting each other, suspending each other, leaving
while the other is demoted. Exactly one decision wins; the other is refused with a message and
changes nothing.

The requests go through the live server in two threads. Each decision, once taken, waits at a
barrier before it commits until the other reaches its own commit too (or 2 seconds pass): without
a lock, both would have passed their check by then and both commit. With the lock, the second
one waits for the first to commit, then sees what it did."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import event, update
from sqlmodel import Session, col, func, select

from app.account.models import Role, User
from app.audit import AuditAction
from app.clock import utcnow
from app.moderation import admin_service
from app.moderation.models import AuditEntry
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import LiveServer, WebClient
from tests.vote.parallel import browser, in_parallel, session_token

# What the refused person reads (French, their language).
REFUSALS = ("est le dernier compte administrateur actif", "Vous êtes le dernier administrateur")

Move = Callable[[httpx.Client, int], httpx.Response]  # (the actor's browser, the other admin's id)


def demote(role: str) -> Move:
    return lambda browser, other: browser.post(f"/admin/users/{other}/role", data={"role": role})


def suspend(browser: httpx.Client, other: int) -> httpx.Response:
    return browser.post(f"/moderation/users/{other}/ban", data={"reason": "Compte compromis", "confirm": "yes"})


def leave(browser: httpx.Client, _other: int) -> httpx.Response:
    return browser.post("/account/delete", data={"password": DEFAULT_PASSWORD})


@dataclass(frozen=True)
class Race:
    """Two moves at the same moment: (who acts: 0 for Anne, 1 for Bruno, the move)."""

    first: tuple[int, Move]
    second: tuple[int, Move]


RACES = {
    "demote each other": Race((0, demote("citizen")), (1, demote("citizen"))),
    "suspend and demote": Race((0, suspend), (1, demote("moderator"))),
    "suspend each other": Race((0, suspend), (1, suspend)),
    "leave and demote the other": Race((0, leave), (0, demote("citizen"))),  # Anne, in two tabs
    "leave and suspend the other": Race((0, leave), (0, suspend)),
    "both leave": Race((0, leave), (1, leave)),
}


@contextmanager
def commits_wait_for_each_other() -> Iterator[None]:
    """Every commit waits (2 s at most) until another commit is about to happen too."""
    barrier = threading.Barrier(2)

    def wait(_session: Session) -> None:
        # Broken: the other one is waiting for our lock, or was refused; go on.
        with suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)

    event.listen(Session, "before_commit", wait)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", wait)


def active_admins(session: Session) -> list[int | None]:
    session.expire_all()
    return list(session.exec(select(User.id).where(User.role == Role.admin, col(User.deleted_at).is_(None),
                                                   col(User.banned_at).is_(None))).all())


def decisions(session: Session) -> int:
    actions = (AuditAction.role_change, AuditAction.ban, AuditAction.account_deleted)
    return int(session.exec(select(func.count()).select_from(AuditEntry)
                            .where(col(AuditEntry.action).in_(actions))).one())


def verdict(browser: httpx.Client, response: httpx.Response) -> str:
    """What the person learns: "refused" with the reason (on the answer itself, or flashed where
    its redirect leads), "not allowed" any more (403, or sent to log in: their session ended),
    or "done"."""
    page = response.text
    if response.status_code == 303:
        page = browser.get(response.headers["location"], follow_redirects=True).text
    if any(text in page for text in REFUSALS):
        return "refused"
    if response.status_code == 403 or response.headers.get("location", "").startswith("/account/login"):
        return "not allowed"
    assert response.status_code == 303, response.status_code
    return "done"


@pytest.mark.parametrize("race", RACES.values(), ids=list(RACES))
def test_two_decisions_at_once_keep_one_administrator(race: Race, live_server: LiveServer,
                                                      session: Session) -> None:
    admins = [make_user(session, role=Role.admin, display_name="Anne Admin"),
              make_user(session, role=Role.admin, display_name="Bruno Admin")]
    session.commit()
    ids = [a.id for a in admins]
    moves = (race.first, race.second)
    browsers = [browser(live_server, session_token(session, admins[who]), json=False) for who, _move in moves]

    def play(i: int) -> httpx.Response:
        who, move = moves[i]
        return move(browsers[i], ids[1 - who])

    with commits_wait_for_each_other():
        responses = in_parallel(2, play)
    try:
        verdicts = sorted(verdict(b, r) for b, r in zip(browsers, responses, strict=True))
    finally:
        for b in browsers:
            b.close()

    assert len(active_admins(session)) == 1
    assert decisions(session) == 1  # one decision took effect; the refused one left no trace
    if session.get_bind().dialect.name == "postgresql":
        # Both were let in as administrators; the second decision waited for the first.
        assert verdicts == ["done", "refused"]
    else:
        # SQLite runs one writing request at a time: the second one may already find its
        # author demoted, suspended or gone, or be refused like on PostgreSQL.
        assert verdicts in (["done", "not allowed"], ["done", "refused"])


def test_a_suspended_administrator_does_not_count(client: WebClient, session: Session) -> None:
    anne = make_user(session, role=Role.admin, display_name="Anne Admin")
    bruno = make_user(session, role=Role.admin, display_name="Bruno Admin")
    bruno.banned_at = utcnow()
    session.add(bruno)
    session.commit()
    client.login_as(anne)
    response = client.submit("/account/delete", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 409
    assert "Vous êtes le dernier administrateur" in response.text
    assert active_admins(session) == [anne.id]


def test_an_administrator_demoted_meanwhile_changes_no_role(client: WebClient, session: Session,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Bruno's request was let in while he was an administrator; by the time his decision is
    taken, Anne has demoted him (done here inside his request, just before the lock, where the
    decision must read his account again)."""
    anne, bruno, chloe = (make_user(session, role=Role.admin, display_name=name)
                          for name in ("Anne Admin", "Bruno Admin", "Chloé Admin"))
    session.commit()
    take_lock = admin_service.lock_admin_changes

    def demoted_meanwhile(request_session: Session) -> None:
        request_session.execute(update(User).where(col(User.id) == bruno.id).values(role=Role.citizen))
        take_lock(request_session)

    monkeypatch.setattr(admin_service, "lock_admin_changes", demoted_meanwhile)
    client.login_as(bruno)
    assert client.submit(f"/admin/users/{chloe.id}/role", {"role": "citizen"}).status_code == 403
    assert sorted(active_admins(session)) == sorted([anne.id, bruno.id, chloe.id])
    assert decisions(session) == 0
