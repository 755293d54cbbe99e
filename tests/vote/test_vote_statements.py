"""A support costs a constant, small number of SQL statements (issue 14): the session, the idea
with its call, the voter's standing, the row and the counter; on PostgreSQL the locks that read
the voter, the call and the idea again in one statement, and the standing, the row and the
counter in one more (each statement a round trip to the server). As many for a voter holding 20
supports as for one holding one, and the answer still says the truth."""

from sqlmodel import Session

from app.identity.models import CityIdentity
from app.identity.service import ROW_ID
from app.notify.models import Notification
from app.vote import service as vote_service
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, counting

JSON = {"Accept": "application/json"}
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# SQLite: session, idea and call, the voter read again by its key (the visitor was read before
# the write turn: app.db.Database.write), standing, INSERT, UPDATE ... RETURNING.
# PostgreSQL: session, idea and call, the three locks (voter, call, idea read again), then
# standing, INSERT and UPDATE in one statement (WITH ... INSERT ... UPDATE ... RETURNING); 8 before.
BOUND = {"sqlite": 6, "postgresql": 4}
# A withdrawal: session, idea and call, the three read again under their locks (on PostgreSQL
# two statements before: the voter's lock, then the call's; on SQLite the voter by its key),
# DELETE, the counter, the standing.
WITHDRAWAL = {"sqlite": 6, "postgresql": 6}


def _vote_statements(client: WebClient, idea_id: int, action: str = "vote") -> tuple[list[str], dict[str, object]]:
    url, token = f"/ideas/{idea_id}/{action}", client.csrf()  # read before counting: not the request's
    with counting(client.db.engine) as seen:
        answer = client.post(url, data={"csrf_token": token}, headers=JSON)
    assert answer.status_code == 200, answer.text
    return [s for s in seen if not s.lstrip().upper().startswith(TRANSACTION)], answer.json()


def test_a_support_costs_a_constant_number_of_statements(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=30)
    ideas = [make_idea(session, call) for _ in range(22)]
    voter = make_user(session)
    session.commit()
    ids = [idea.id for idea in ideas]
    client.login_as(voter)
    bound = BOUND[client.db.engine.dialect.name]

    first, answer = _vote_statements(client, ids[0])
    assert len(first) <= bound, "\n".join(s[:120] for s in first)
    assert answer["vote_count"] == 1 and answer["votes_left"] == 29
    for idea_id in ids[1:21]:
        _vote_statements(client, idea_id)
    last, answer = _vote_statements(client, ids[21])
    assert len(last) == len(first), "\n".join(s[:120] for s in last)
    assert answer["vote_count"] == 1 and answer["votes_left"] == 8
    session.expire_all()
    for idea_id in ids:
        assert vote_service.vote_count(session, idea_id) == vote_service.count_rows(session, idea_id) == 1


def test_a_withdrawal_locks_and_reads_its_voter_call_and_idea_in_one_statement(client: WebClient,
                                                                               session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert idea.id is not None
    _vote_statements(client, idea.id)

    seen, answer = _vote_statements(client, idea.id, "vote/withdraw")
    assert len(seen) <= WITHDRAWAL[client.db.engine.dialect.name], "\n".join(s[:120] for s in seen)
    assert answer["voted"] is False and answer["vote_count"] == 0 and answer["votes_left"] == 3
    session.expire_all()
    assert vote_service.vote_count(session, idea.id) == vote_service.count_rows(session, idea.id) == 0


def test_a_form_support_reads_what_only_a_page_shows_only_when_it_draws_one(client: WebClient,
                                                                             session: Session) -> None:
    """Sent by a form (no script), a support answers with a redirect: the header's unread count
    and the city's identity are not read for it, so it costs what a script's support costs. The
    page it comes back to, and the error page of a refused one, still show both as they are."""
    call = make_call(session, phase="voting", votes_per_citizen=3)
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    assert voter.id is not None and idea.id is not None
    session.add(Notification(user_id=voter.id, kind="comment", subject="Idée", link="/"))
    session.add(CityIdentity(id=ROW_ID, platform_name="Participation Liège", city_name="Liège",
                             primary_color="#0b5c4f", accent_color="#07443a"))
    session.commit()
    client.login_as(voter)
    url, token = f"/ideas/{idea.id}/vote", client.csrf()  # read before counting: not the request's

    with counting(client.db.engine) as seen:
        answer = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/ideas/{idea.id}#vote"
    statements = [s for s in seen if not s.lstrip().upper().startswith(TRANSACTION)]
    assert len(statements) <= BOUND[client.db.engine.dialect.name], "\n".join(s[:120] for s in statements)
    assert not any("notification" in s.lower() or "cityidentity" in s.lower().replace("_", "") for s in statements)

    back = client.get(answer.headers["location"]).text
    assert '<span class="badge">1</span>' in back and "Participation Liège" in back
    session.expire_all()
    assert vote_service.count_rows(session, idea.id) == 1

    # Refused with a page (no such idea): the header is read for that page, after the route.
    missing = client.post(f"/ideas/{idea.id + 1000}/vote", data={"csrf_token": token}, follow_redirects=False)
    assert missing.status_code == 404
    assert '<span class="badge">1</span>' in missing.text and "Participation Liège" in missing.text
