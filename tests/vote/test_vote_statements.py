"""A support costs a constant, small number of SQL statements (issue 14): the session, the idea
with its call, the voter's standing, the row and the counter; on PostgreSQL the locks that read
the voter, the call and the idea again in one statement, and the standing, the row and the
counter in one more (each statement a round trip to the server). As many for a voter holding 20
supports as for one holding one, and the answer still says the truth."""

from sqlmodel import Session

from app.vote import service as vote_service
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, counting

JSON = {"Accept": "application/json"}
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# SQLite: session, idea and call, standing, INSERT, UPDATE ... RETURNING. PostgreSQL: session,
# idea and call, the three locks (voter, call, idea read again), then standing, INSERT and
# UPDATE in one statement (WITH ... INSERT ... UPDATE ... RETURNING); 8 before.
BOUND = {"sqlite": 5, "postgresql": 4}


def _vote_statements(client: WebClient, idea_id: int) -> tuple[list[str], dict[str, object]]:
    url, token = f"/ideas/{idea_id}/vote", client.csrf()  # read before counting: not the request's
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
