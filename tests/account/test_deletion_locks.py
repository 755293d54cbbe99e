"""An account's deletion writes many rows in several statements (its comments lose their author,
its supports are withdrawn, its follows end), and the triggers of migrations 0041 and 0042 add
each idea's change to a shared row: the call's dialogue figures in the shard of the idea's id
modulo 64, the home page's key figures modulo 256. A deletion that held such a shard from one
statement while it waited, in a later one, for an idea that another writer held (a comment, a
support, a decision under way) deadlocked with that writer as soon as it wanted the same shard:
PostgreSQL breaks the cycle by failing one of them, a citizen's comment or the deletion
answered with an error. The deletion now locks every idea it will write, in ascending id,
before its first write (app.locks.lock_ideas), so it never waits for an idea while it holds a shard."""

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.account import privacy as account_privacy
from app.account.models import User
from app.call.models import Call
from app.comment import service as comment_service
from app.idea.models import Idea
from app.moderation import dialogue
from app.vote import service as vote_service
from tests.factories import DEFAULT_PASSWORD, make_call, make_comment, make_idea, make_user
from tests.pages.key_figures_oracle import recount
from tests.support import WebClient
from tests.support_locks import holding_idea, queued_behind

DIALOGUE_SHARDS = 64


def test_a_deletion_never_waits_for_an_idea_while_it_holds_a_shard(client: WebClient, session: Session) -> None:
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: no row locks to order")
    call = make_call(session, phase="voting")
    supported = make_idea(session, call)
    assert supported.id is not None
    # The next idea lands in the same dialogue shard as the first (its id 64 further).
    session.execute(text("SELECT setval(pg_get_serial_sequence('idea', 'id'), :v)"),
                    {"v": supported.id + DIALOGUE_SHARDS - 1})
    commented = make_idea(session, call)
    assert commented.id == supported.id + DIALOGUE_SHARDS
    leaving, citizen = make_user(session), make_user(session)
    make_comment(session, commented, leaving)  # the only citizen comment there: its loss moves the shard
    vote_service.cast_vote(session, idea=supported, call=call, user=leaving)
    session.commit()
    ids = {"leaving": leaving.id, "citizen": citizen.id, "call": call.id, "supported": supported.id}

    def delete_account(s: Session) -> None:
        person = s.get(User, ids["leaving"])
        assert person is not None
        account_privacy.delete_account(s, client.settings, person, password=DEFAULT_PASSWORD)

    def comment(s: Session) -> None:  # the idea's writer goes on: a citizen's first comment there
        comment_service.create_comment(
            s, client.settings, idea=s.get(Idea, ids["supported"]), call=s.get(Call, ids["call"]),  # type: ignore[arg-type]
            author=s.get(User, ids["citizen"]), body="Une précision utile sur le lieu.", language="fr")  # type: ignore[arg-type]

    errors = queued_behind(client, holding_idea(supported.id), delete_account, then=comment)
    assert errors == []
    session.expire_all()
    deleted = session.get(User, ids["leaving"])
    assert deleted is not None and deleted.deleted_at is not None
    # Both writes whole: the support withdrawn, the comment counted, the figures exact.
    assert vote_service.vote_count(session, ids["supported"]) == vote_service.count_rows(session, ids["supported"]) == 0
    kept = session.execute(text("SELECT sum(ideas), sum(participants), sum(supports) FROM key_figures_tally")).one()
    assert tuple(kept) == recount(session)
    assert dialogue.figures(session, ids["call"]).commented_ideas == 1  # the supported idea, no longer the other
