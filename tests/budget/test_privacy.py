"""Ballots are personal data: in the person's export, removed at deletion while voting is
open, kept anonymised for a call past voting (its results never change)."""

from sqlmodel import Session, select

from app.account import privacy as account_privacy
from app.budget.models import Ballot
from tests.budget.helpers import cast_ballot, make_budget_call, make_project
from tests.factories import DEFAULT_PASSWORD
from tests.support import WebClient, exported_data


def test_a_ballot_is_exported_and_erased_with_its_account(client: WebClient, session: Session) -> None:
    open_call = make_budget_call(session, phase="voting")
    done_call = make_budget_call(session, phase="results")
    park = make_project(session, open_call, 10, title="Un parc")
    past = make_project(session, done_call, 10, title="Un banc")
    voter = cast_ballot(session, open_call, [park], confirmed=False)
    cast_ballot(session, done_call, [past])
    other = cast_ballot(session, open_call, [park])
    # The same person also voted in the finished call.
    finished = cast_ballot(session, done_call, [past])
    session.exec(select(Ballot).where(Ballot.user_id == finished.id)).one().user_id = voter.id
    session.commit()

    data = exported_data(client.login_as(voter).submit("/account/export").content)
    assert {b["call"] for b in data["ballots"]} == {open_call.title, done_call.title}
    mine = next(b for b in data["ballots"] if b["call"] == open_call.title)
    assert mine["confirmed_at"] is None and [p["title"] for p in mine["projects"]] == ["Un parc"]

    account_privacy.delete_account(session, client.settings, voter, password=DEFAULT_PASSWORD)
    session.commit()
    session.expire_all()
    left = session.exec(select(Ballot).where(Ballot.user_id == voter.id)).all()
    assert [b.call_id for b in left] == [done_call.id]  # the finished call's results stay as they were
    assert session.exec(select(Ballot).where(Ballot.user_id == other.id)).one()
