"""A suspension that hides the person's content writes many ideas, one after the other, and each
hidden idea leaves the home page's key figures through the shard of its id modulo 256 (migration
0042). It held the first idea's shard while it waited for the next idea, held by a citizen's
support under way, which then wanted the same shard: PostgreSQL failed one of them. The
suspension now locks every idea it hides, in ascending id, before the first (app.locks.lock_ideas)."""

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.account.models import Role, User
from app.call.models import Call
from app.idea.models import Idea
from app.moderation import bans
from app.vote import service as vote_service
from tests.factories import make_call, make_idea, make_user
from tests.pages.key_figures_oracle import recount
from tests.support import WebClient
from tests.support_locks import holding_idea, queued_behind

KEY_FIGURE_SHARDS = 256


def test_a_suspension_and_a_support_sharing_a_shard_both_go_through(client: WebClient, session: Session) -> None:
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: no row locks to order")
    call = make_call(session, phase="voting")
    banned, citizen = make_user(session), make_user(session)
    moderator = make_user(session, role=Role.admin)
    first = make_idea(session, call, banned)
    assert first.id is not None
    # Their next idea lands in the same shard as the first (its id 256 further).
    session.execute(text("SELECT setval(pg_get_serial_sequence('idea', 'id'), :v)"),
                    {"v": first.id + KEY_FIGURE_SHARDS - 1})
    second = make_idea(session, call, banned)
    assert second.id == first.id + KEY_FIGURE_SHARDS
    session.commit()
    ids = {"banned": banned.id, "moderator": moderator.id, "citizen": citizen.id, "call": call.id,
           "second": second.id}

    def suspend(s: Session) -> None:
        actor, person = s.get(User, ids["moderator"]), s.get(User, ids["banned"])
        assert actor is not None and person is not None
        bans.ban_user(s, actor=actor, user=person, reason="Propos injurieux répétés.", hide_content=True)

    def support(s: Session) -> None:  # the support of their second idea goes on
        vote_service.cast_vote(s, idea=s.get(Idea, ids["second"]), call=s.get(Call, ids["call"]),  # type: ignore[arg-type]
                               user=s.get(User, ids["citizen"]))  # type: ignore[arg-type]

    errors = queued_behind(client, holding_idea(second.id), suspend, then=support)
    assert errors == []
    session.expire_all()
    hidden = [session.get(Idea, i) for i in (first.id, ids["second"])]
    assert all(i is not None and i.hidden_at is not None for i in hidden)
    assert vote_service.vote_count(session, ids["second"]) == vote_service.count_rows(session, ids["second"]) == 1
    kept = session.execute(text("SELECT sum(ideas), sum(participants), sum(supports) FROM key_figures_tally")).one()
    assert tuple(kept) == recount(session)
