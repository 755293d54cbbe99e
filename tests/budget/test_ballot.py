"""The ballot through its pages and as a script: the budget holds, reasons are given, only
confirmed ballots count, nobody sees another person's ballot."""

from sqlmodel import Session, select

from app.budget import ballot as ballot_service
from app.budget.models import Ballot, BallotItem
from tests.budget.helpers import editor_form, make_budget_call, make_project
from tests.factories import make_call, make_category, make_district, make_user
from tests.support import WebClient

JSON = {"Accept": "application/json"}


def items_of(session: Session, user_id: int | None) -> list[int]:
    session.expire_all()
    return list(session.exec(select(BallotItem.idea_id).join(Ballot, Ballot.id == BallotItem.ballot_id)
                             .where(Ballot.user_id == user_id)).all())


def test_citizen_fills_confirms_and_changes_a_ballot_without_javascript(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, total=100_000)
    park = make_project(session, call, 60_000, title="Un parc")
    bench = make_project(session, call, 30_000, title="Des bancs")
    voter = make_user(session)
    session.commit()
    client.login_as(voter)

    page = client.get(f"/calls/{call.slug}/ballot")
    assert page.status_code == 200
    assert "Un parc" in page.text and "60\u202f000\u00a0€" in page.text

    added = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(park.id)})
    assert added.status_code == 303
    assert added.headers["location"] == f"/calls/{call.slug}/ballot#project-{park.id}"
    page = client.get(f"/calls/{call.slug}/ballot")
    assert "40\u202f000\u00a0€" in page.text  # left
    assert "ne compte pas encore" in page.text  # not confirmed yet

    assert client.submit(f"/calls/{call.slug}/ballot/confirm").status_code == 303
    session.expire_all()
    assert ballot_service.ballot_of(session, call_id=call.id, user_id=voter.id).confirmed_at is not None
    assert "est confirmé et compte" in client.get(f"/calls/{call.slug}/ballot").text

    # A change un-confirms: what counts is a ballot its citizen confirmed as a whole.
    assert client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(bench.id)}).status_code == 303
    session.expire_all()
    assert ballot_service.ballot_of(session, call_id=call.id, user_id=voter.id).confirmed_at is None
    assert sorted(items_of(session, voter.id)) == sorted([park.id, bench.id])
    client.submit(f"/calls/{call.slug}/ballot/remove", {"idea_id": str(park.id)})
    assert items_of(session, voter.id) == [bench.id]


def test_a_project_over_the_budget_is_refused_with_the_reason(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, total=100)
    first = make_project(session, call, 70)
    second = make_project(session, call, 40)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(first.id)}, headers=JSON).status_code == 200

    refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(second.id)}, headers=JSON)
    assert refused.status_code == 409
    assert "40\u00a0€" in refused.json()["error"] and "30\u00a0€" in refused.json()["error"]
    assert items_of(session, voter.id) == [first.id]
    # Without a script: the page says why the project does not fit, next to it, and offers no button.
    page = client.get(f"/calls/{call.slug}/ballot")
    assert "Ce projet coûte 40\u00a0€ et il ne reste que 30\u00a0€" in page.text
    form = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(second.id)}, follow_redirects=True)
    assert "Ce projet coûte 40\u00a0€" in form.text
    assert items_of(session, voter.id) == [first.id]


def test_an_unfeasible_or_uncosted_idea_cannot_be_added(client: WebClient, session: Session) -> None:
    call = make_budget_call(session)
    unfeasible = make_project(session, call, None, feasible=False, title="Un téléphérique")
    uncosted = make_project(session, call, None, title="Pas encore chiffré")
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert "Un téléphérique" not in client.get(f"/calls/{call.slug}/ballot").text
    for idea in (unfeasible, uncosted):
        refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(idea.id)}, headers=JSON)
        assert refused.status_code == 403
    assert items_of(session, voter.id) == []


def test_per_district_budgets_are_spent_apart(client: WebClient, session: Session) -> None:
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    call = make_budget_call(session, districts=[(north, 100), (south, 200)])
    north_big = make_project(session, call, 80, district=north)
    north_more = make_project(session, call, 30, district=north)
    south_big = make_project(session, call, 150, district=south)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    for idea in (north_big, south_big):
        added = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(idea.id)}, headers=JSON)
        assert added.status_code == 200
    # 70 € are left in all, but only 20 € in the north: the north project does not fit.
    refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(north_more.id)}, headers=JSON)
    assert refused.status_code == 409
    assert "Nord" in refused.json()["error"]
    page = client.get(f"/calls/{call.slug}/ballot").text
    assert "Nord" in page and "Sud" in page


def test_confirmation_follows_the_rules_of_a_valid_ballot(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, total=100, min_projects=2, min_percent=50)
    small, other = make_project(session, call, 10), make_project(session, call, 20)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    empty = client.submit(f"/calls/{call.slug}/ballot/confirm", headers=JSON)
    assert empty.status_code == 409
    client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(small.id)})
    too_few = client.submit(f"/calls/{call.slug}/ballot/confirm", headers=JSON)
    assert too_few.status_code == 409 and "au moins 2 projets" in too_few.json()["error"]
    client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(other.id)})
    too_little = client.submit(f"/calls/{call.slug}/ballot/confirm", headers=JSON)
    assert too_little.status_code == 409 and "au moins 50" in too_little.json()["error"]
    session.expire_all()
    assert ballot_service.ballot_of(session, call_id=call.id, user_id=voter.id).confirmed_at is None


def test_ballots_only_while_voting_is_open(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="review")
    project = make_project(session, call, 10)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(project.id)}, headers=JSON)
    assert refused.status_code == 409
    assert items_of(session, voter.id) == []


def test_nobody_sees_another_persons_ballot_and_visitors_must_log_in(client: WebClient, session: Session) -> None:
    call = make_budget_call(session)
    project = make_project(session, call, 10, title="Un potager")
    first, second = make_user(session), make_user(session)
    session.commit()
    client.login_as(first)
    client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(project.id)})
    assert "Retirer de mon bulletin" in client.get(f"/calls/{call.slug}/ballot").text
    client.login_as(second)
    page = client.get(f"/calls/{call.slug}/ballot").text
    assert "Retirer de mon bulletin" not in page and "Ajouter à mon bulletin" in page
    # The other person's removal touches only their own (empty) ballot.
    client.submit(f"/calls/{call.slug}/ballot/remove", {"idea_id": str(project.id)})
    assert items_of(session, first.id) == [project.id]
    client.cookies.clear()
    anonymous = client.get(f"/calls/{call.slug}/ballot")
    assert anonymous.status_code == 200 and "Un potager" in anonymous.text
    assert client.post(f"/calls/{call.slug}/ballot/add", data={"idea_id": str(project.id)},
                       follow_redirects=False).status_code in (303, 403)


def test_a_supports_call_has_no_ballot_and_a_budget_call_no_supports(client: WebClient, session: Session) -> None:
    call = make_budget_call(session)
    project = make_project(session, call, 10)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    assert client.submit(f"/ideas/{project.id}/vote", headers=JSON).status_code == 409
    plain = make_call(session, phase="voting")
    session.commit()
    assert client.get(f"/calls/{plain.slug}/ballot").status_code == 404


def test_pages_of_a_budget_call_lead_to_the_ballot_not_to_supports(client: WebClient, session: Session) -> None:
    call = make_budget_call(session)
    project = make_project(session, call, 10)
    session.commit()
    ballot_link = f'href="/calls/{call.slug}/ballot"'
    call_page = client.get(f"/calls/{call.slug}").text
    assert ballot_link in call_page and "Chaque personne peut soutenir" not in call_page
    idea_page = client.get(f"/ideas/{project.id}").text
    assert ballot_link in idea_page and "Soutenir cette idée</button>" not in idea_page


def test_per_theme_budgets_set_by_an_administrator_bound_each_theme(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    green, roads = make_category(session, call, name="Espaces verts"), make_category(session, call, name="Voirie")
    admin = make_user(session, role="admin")
    session.commit()
    client.login_as(admin)
    saved = client.submit(f"/admin/calls/{call.id}", editor_form(call, voting_mode="budget", scope="category", **{
        f"theme_{green.id}": "100", f"theme_{roads.id}": "50"}))
    assert saved.status_code == 303
    trees = make_project(session, call, 90, category=green)
    road = make_project(session, call, 60, category=roads)  # more than the roads' 50 €, though 150 € in all
    call.phase_override = "voting"
    session.add(call)
    session.commit()
    added = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(trees.id)}, headers=JSON)
    assert added.status_code == 200
    refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(road.id)}, headers=JSON)
    assert refused.status_code == 409 and "Voirie" in refused.json()["error"]


def test_a_least_number_of_projects_no_ballot_can_reach_does_not_block_every_ballot(client: WebClient,
                                                                                     session: Session) -> None:
    # The rule asks for 3 projects, but the review left 3 projects of which at most 2 fit in
    # the 100 € budget together (30 + 50; 60 + 50 and the three are over). Asking for 3 would
    # leave every ballot uncounted: the ballot asks for what can be reached, 2.
    call = make_budget_call(session, total=100, min_projects=3)
    big = make_project(session, call, 60)
    mid = make_project(session, call, 50)
    small = make_project(session, call, 30)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    base = f"/calls/{call.slug}/ballot"
    assert client.submit(f"{base}/add", {"idea_id": str(small.id)}).status_code == 303
    page = client.get(base)
    assert "Choisissez au moins 2 projets" in page.text and "au moins 3 projets" not in page.text
    assert client.submit(f"{base}/add", {"idea_id": str(mid.id)}).status_code == 303
    assert client.submit(f"{base}/confirm").status_code == 303
    session.expire_all()
    assert ballot_service.ballot_of(session, call_id=call.id, user_id=voter.id).confirmed_at is not None
    assert big.id not in items_of(session, voter.id)


def test_removing_a_project_twice_does_not_tell_a_confirmed_ballot_it_no_longer_counts(client: WebClient,
                                                                                      session: Session) -> None:
    # A second "remove" (the form sent again, a back button) changes nothing: the ballot is still
    # confirmed, and the citizen must not read that it has to be confirmed again.
    call = make_budget_call(session, total=100)
    park = make_project(session, call, 60)
    bench = make_project(session, call, 30)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    base = f"/calls/{call.slug}/ballot"
    client.submit(f"{base}/add", {"idea_id": str(park.id)})
    client.submit(f"{base}/add", {"idea_id": str(bench.id)})
    client.submit(f"{base}/remove", {"idea_id": str(bench.id)})
    client.submit(f"{base}/confirm")
    client.get(base)  # the messages of the steps above are read
    again = client.submit(f"{base}/remove", {"idea_id": str(bench.id)}, headers=JSON)
    assert again.status_code == 200 and again.json()["confirmed"] is True
    assert "Confirmez à nouveau" not in again.json()["message"]
    assert "n’est pas dans votre bulletin" in again.json()["message"]
    page = client.get(client.submit(f"{base}/remove", {"idea_id": str(bench.id)}).headers["location"])
    assert "Confirmez à nouveau" not in page.text and "est confirmé et compte" in page.text


def test_a_ballot_over_the_budget_after_moderation_restores_a_project_cannot_be_confirmed(
        client: WebClient, session: Session) -> None:
    # P1 (60 €) is in the ballot; moderators hide it, which frees its money; the citizen adds
    # P2 (70 €); moderators restore P1: the ballot now spends 130 € of 100 €. It must not be
    # confirmed as it is (the ballot never spends more than the budget), and the page says why.
    call = make_budget_call(session, total=100)
    first = make_project(session, call, 60, title="Un parc")
    second = make_project(session, call, 70, title="Une rue")
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    base = f"/calls/{call.slug}/ballot"
    client.submit(f"{base}/add", {"idea_id": str(first.id)})
    first.hidden_at = first.updated_at
    session.add(first)
    session.commit()
    assert client.submit(f"{base}/add", {"idea_id": str(second.id)}).status_code == 303
    first.hidden_at = None
    session.add(first)
    session.commit()

    refused = client.submit(f"{base}/confirm", headers=JSON)
    assert refused.status_code == 409 and "plus que le budget" in refused.json()["error"]
    session.expire_all()
    assert ballot_service.ballot_of(session, call_id=call.id, user_id=voter.id).confirmed_at is None
    page = client.get(base).text
    assert "plus que le budget" in page and "Confirmer mon bulletin" not in page
    client.submit(f"{base}/remove", {"idea_id": str(second.id)})
    assert client.submit(f"{base}/confirm").status_code == 303


def test_a_citizen_who_may_not_vote_in_a_residents_only_call_is_told_before_filling_a_ballot(
        client: WebClient, session: Session) -> None:
    # Voting is for verified residents: a citizen who is not one must not be offered buttons that
    # all end on a refusal page; the ballot page says why and how to get verified.
    call = make_budget_call(session, total=100)
    call.vote_access = "residents"
    session.add(call)
    project = make_project(session, call, 60)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    page = client.get(f"/calls/{call.slug}/ballot").text
    assert "Seuls les résidents vérifiés" in page
    assert "Ajouter à mon bulletin" not in page and "ballot.js" not in page
    assert client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(project.id)}).status_code == 403
    assert items_of(session, voter.id) == []
