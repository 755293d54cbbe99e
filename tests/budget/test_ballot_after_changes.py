"""A confirmed ballot never counts over the budget, whatever happens to its projects after it
was checked: a project moderators restore, a project that comes back in another district, a
cost or a budget changed once ballots exist (a phase moved back by hand). The citizen is told
and sees why on the ballot page; the results count only ballots within every budget."""

from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.budget import ballot as ballot_service
from app.budget import results
from app.budget.models import CallBudget, IdeaReview
from app.call.models import Call, Phase
from app.notify.models import Notification
from tests.budget.helpers import cast_ballot, editor_form, make_budget_call, make_project
from tests.factories import make_district, make_user
from tests.support import WebClient

BODY = "Une idée détaillée pour améliorer la vie du quartier."


def as_user(client: WebClient, user: User) -> WebClient:
    client.cookies.clear()
    return client.login_as(user)


def confirmed(session: Session, call: Call, user: User) -> bool:
    session.expire_all()
    found = ballot_service.ballot_of(session, call_id=call.id or 0, user_id=user.id or 0)
    return found is not None and found.confirmed_at is not None


def ballot_notices(session: Session, user: User) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id,
                                                        Notification.kind == "ballot")
                             .order_by(col(Notification.id))).all())


def counted(session: Session, call: Call) -> tuple[int, dict[int, int]]:
    """Ballots that count and the confirmed ballots per project, as the results read them."""
    session.expire_all()
    fresh = session.get(Call, call.id)
    assert fresh is not None
    computed = results.compute(session, fresh)
    return computed.ballots, {r.project.idea.id or 0: r.supports for p in computed.parts for r in p.rows}


def test_a_confirmed_ballot_put_over_the_budget_by_a_restored_project_no_longer_counts(
        client: WebClient, session: Session) -> None:
    # P1 (60 €) is in Alice's ballot; moderators hide it, which frees its money; she adds P2
    # (70 €) and confirms (70 € of 100 €). Moderators restore P1: her ballot would spend 130 €.
    call = make_budget_call(session, total=100)
    park = make_project(session, call, 60, title="Un parc")
    street = make_project(session, call, 70, title="Une rue")
    alice = make_user(session, display_name="Alice")
    bruno = make_user(session, display_name="Bruno")
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    base = f"/calls/{call.slug}/ballot"

    as_user(client, alice)
    client.submit(f"{base}/add", {"idea_id": str(park.id)})
    as_user(client, bruno)  # Bruno chose P1 alone: it still fits when it comes back
    client.submit(f"{base}/add", {"idea_id": str(park.id)})
    assert client.submit(f"{base}/confirm").status_code == 303

    as_user(client, moderator)
    assert client.submit(f"/moderation/ideas/{park.id}/hide", {"reason": "À vérifier"}).status_code == 303
    as_user(client, alice)
    assert client.submit(f"{base}/add", {"idea_id": str(street.id)}).status_code == 303
    assert client.submit(f"{base}/confirm").status_code == 303
    assert confirmed(session, call, alice)

    as_user(client, moderator)
    assert client.submit(f"/moderation/ideas/{park.id}/restore", {"reason": "Rien à redire"}).status_code == 303

    # Her ballot is no longer confirmed, does not count, and she is told where to fix it.
    assert not confirmed(session, call, alice)
    [notice] = ballot_notices(session, alice)
    assert notice.link == f"{base}#ballot-summary" and notice.call_id == call.id
    assert confirmed(session, call, bruno) and ballot_notices(session, bruno) == []
    assert counted(session, call) == (1, {park.id: 1, street.id: 0})

    as_user(client, alice)
    listing = client.get("/notifications").text
    assert f"Votre bulletin pour «\u202f{call.title}\u202f»" in listing and "il ne compte plus" in listing
    page = client.get(base).text
    assert "Votre bulletin ne compte pas\u202f: il dépense plus que le budget." in page
    assert "Confirmer mon bulletin" not in page and "est confirmé et compte" not in page
    refused = client.submit(f"{base}/confirm", headers={"Accept": "application/json"})
    assert refused.status_code == 409 and "plus que le budget" in refused.json()["error"]

    # She removes a project and confirms again: her ballot counts.
    client.submit(f"{base}/remove", {"idea_id": str(street.id)})
    assert client.submit(f"{base}/confirm").status_code == 303
    assert "est confirmé et compte" in client.get(base).text
    assert counted(session, call) == (2, {park.id: 2, street.id: 0})


def test_a_project_published_again_in_another_district_unconfirms_ballots_over_that_districts_budget(
        client: WebClient, session: Session) -> None:
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    call = make_budget_call(session, districts=[(north, 100), (south, 50)])
    author = make_user(session)
    moving = make_project(session, call, 40, district=north, author=author, title="Un abri vélo")
    staying = make_project(session, call, 30, district=south, title="Un banc")
    alice = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    base = f"/calls/{call.slug}/ballot"
    as_user(client, alice)
    for idea in (moving, staying):
        client.submit(f"{base}/add", {"idea_id": str(idea.id)})
    assert client.submit(f"{base}/confirm").status_code == 303

    # Sent back for changes, the author moves it to the south and submits it again: published,
    # it now spends the south's budget, where Alice's ballot would spend 70 € of 50 €.
    as_user(client, moderator)
    assert client.submit(f"/moderation/ideas/{moving.id}/request-changes",
                         {"message": "Précisez le lieu"}).status_code == 303
    as_user(client, author)
    sent = client.submit(f"/ideas/{moving.id}/edit", {"title": "Un abri vélo", "body_md": BODY,
                                                      "district_id": str(south.id), "action": "submit"})
    assert sent.status_code == 303
    session.expire_all()
    assert session.get(type(moving), moving.id).district_id == south.id  # type: ignore[union-attr]

    assert not confirmed(session, call, alice)
    assert len(ballot_notices(session, alice)) == 1
    assert counted(session, call)[0] == 0


def test_a_cost_or_a_budget_cannot_change_under_ballots_once_the_phase_is_moved_back(
        client: WebClient, session: Session) -> None:
    call = make_budget_call(session, total=100)
    project = make_project(session, call, 60)
    cast_ballot(session, call, [project])
    call.phase_override = Phase.submissions  # an administrator moved the phase back by hand
    session.add(call)
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    session.commit()

    as_user(client, moderator)
    refused = client.submit(f"/moderation/ideas/{project.id}/technical-review",
                            {"feasible": "yes", "cost": "90", "explanation": "Nouveau devis"})
    assert refused.status_code == 422 and "déjà mis ce projet dans leur bulletin" in refused.text
    session.expire_all()
    assert session.get(IdeaReview, project.id).cost_eur == 60  # type: ignore[union-attr]

    as_user(client, admin)
    refused = client.submit(f"/admin/calls/{call.id}", editor_form(call, voting_mode="budget", scope="call",
                                                                    total="50"))
    assert refused.status_code == 422 and "déjà rempli des bulletins" in refused.text
    session.expire_all()
    assert session.get(CallBudget, call.id).total_eur == 100  # type: ignore[union-attr]


def test_a_confirmed_ballot_over_the_budget_never_counts_in_the_results(session: Session) -> None:
    # Whatever path put it there (written directly here), the results leave it out.
    call = make_budget_call(session, total=100)
    big = make_project(session, call, 80)
    small = make_project(session, call, 30)
    cast_ballot(session, call, [big, small])  # 110 € of 100 €
    cast_ballot(session, call, [small])
    session.flush()
    assert counted(session, call) == (1, {big.id: 0, small.id: 1})
