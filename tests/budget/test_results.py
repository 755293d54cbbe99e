"""Results: the greedy method on a hand-computed example, per district, confirmed ballots
only; previewed by moderators, applied, published through the results flow; CSV and JSON."""

import csv
import io

from sqlmodel import Session, select

from app.audit import AuditEntry
from app.budget import results
from app.call.models import Call
from app.idea.models import Idea
from tests.budget.helpers import cast_ballot, make_budget_call, make_project
from tests.factories import make_district, make_user
from tests.support import WebClient


def test_greedy_skips_a_project_that_no_longer_fits_and_funds_a_cheaper_one_below(session: Session) -> None:
    # Budget 100 €. Ranked by confirmed ballots: A (60 €, 4), B (50 €, 3), C (30 €, 2), D (20 €, 1).
    # A is funded (40 € left); B does not fit and is skipped; C is funded (10 € left); D does not fit.
    call = make_budget_call(session, total=100)
    a, b, c, d = (make_project(session, call, cost, title=name)
                  for cost, name in ((60, "A"), (50, "B"), (30, "C"), (20, "D")))
    # Each ballot within the budget (one over it would not count).
    for chosen in ([a, c], [a, c], [a, d], [a], [b], [b], [b]):
        cast_ballot(session, call, chosen)
    # Unconfirmed ballots count for nothing: these would put D first.
    for _ in range(5):
        cast_ballot(session, call, [d], confirmed=False)
    session.flush()

    computed = results.compute(session, call)
    rows = computed.parts[0].rows
    assert [(r.project.idea.title, r.supports, r.funded) for r in rows] == [
        ("A", 4, True), ("B", 3, False), ("C", 2, True), ("D", 1, False)]
    assert (computed.used, computed.left, computed.ballots) == (90, 10, 7)


def test_per_district_budgets_are_funded_apart(session: Session) -> None:
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    call = make_budget_call(session, districts=[(north, 100), (south, 50)])
    n1 = make_project(session, call, 80, district=north)
    n2 = make_project(session, call, 40, district=north)
    s1 = make_project(session, call, 50, district=south)
    s2 = make_project(session, call, 10, district=south)
    cast_ballot(session, call, [n1, s1])
    cast_ballot(session, call, [n1, n2, s1, s2])
    cast_ballot(session, call, [n2, s2])

    computed = results.compute(session, call)
    by_part = {p.part.name: [(r.project.idea.id, r.funded) for r in p.rows] for p in computed.parts}
    # North: n1 (2) and n2 (2) tie; the cheaper n2 goes first (40 €), then n1 (80 €) no longer fits.
    assert by_part["Nord"] == [(n2.id, True), (n1.id, False)]
    # South: s1 and s2 tie at 2; the cheaper s2 goes first (10 €), then s1 (50 €) no longer fits in 40 €.
    assert by_part["Sud"] == [(s2.id, True), (s1.id, False)]
    assert [(p.used, p.left) for p in computed.parts] == [(40, 60), (10, 40)]


def test_moderators_preview_apply_and_publish_and_the_public_gets_cost_and_funded(client: WebClient,
                                                                                  session: Session) -> None:
    call = make_budget_call(session, total=100, phase="review")
    park = make_project(session, call, 70, title="Un parc")
    road = make_project(session, call, 50, title="Une rue")
    cast_ballot(session, call, [park])
    cast_ballot(session, call, [park])
    cast_ballot(session, call, [road])
    moderator = make_user(session, role="moderator")
    citizen = make_user(session)
    session.commit()

    client.login_as(citizen)
    assert client.get(f"/moderation/calls/{call.id}/budget-results").status_code == 403
    assert client.get(f"/calls/{call.slug}/budget-results").status_code == 404  # not published yet

    client.login_as(moderator)
    early = make_budget_call(session, total=100, phase="results")  # the clock's results phase, nothing applied
    session.commit()
    assert client.get(f"/calls/{early.slug}/budget-results").status_code == 404
    preview = client.get(f"/moderation/calls/{call.id}/budget-results")
    assert preview.status_code == 200 and "Un parc" in preview.text and "Financé" in preview.text
    applied = client.submit(f"/moderation/calls/{call.id}/budget-results")
    assert applied.status_code == 303
    session.expire_all()
    assert session.get(Idea, park.id).winner and not session.get(Idea, road.id).winner
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "budget_apply")).one()
    published = client.submit(f"/moderation/calls/{call.id}/publish-results", {"confirm": "yes"})
    assert published.status_code == 303
    session.expire_all()
    assert session.get(Call, call.id).phase_override == "results"

    client.cookies.clear()
    page = client.get(f"/calls/{call.slug}/budget-results")
    assert page.status_code == 200
    assert "Un parc" in page.text and "financés dans cet ordre" in page.text
    totals = page.text.split('class="budget-totals">')[1].split("</p>")[0]
    assert "100\u00a0€" in totals and "70\u00a0€" in totals and "30\u00a0€" in totals
    rows = list(csv.DictReader(io.StringIO(client.get(f"/calls/{call.slug}/budget-results.csv").text)))
    assert [(r["title"], r["cost_eur"], r["supports"], r["funded"]) for r in rows] == [
        ("Un parc", "70", "2", "True"), ("Une rue", "50", "1", "False")]
    data = client.get(f"/api/calls/{call.slug}/budget-results").json()
    assert (data["budget_eur"], data["used_eur"], data["left_eur"]) == (100, 70, 30)
    assert [(p["cost_eur"], p["funded"]) for p in data["projects"]] == [(70, True), (50, False)]
    # Counts only: no voter is named anywhere.
    assert "user" not in str(data) and "voter" not in str(data)


def test_a_project_no_confirmed_ballot_chose_is_never_funded(client: WebClient, session: Session) -> None:
    # Budget 100 €: A (60 €) is chosen by two confirmed ballots; B (30 €) only by an unconfirmed
    # one. 40 € are left after A, but nobody's confirmed choice spends them on B.
    call = make_budget_call(session, total=100, phase="review")
    a = make_project(session, call, 60, title="Un parc")
    b = make_project(session, call, 30, title="Personne n’en veut")
    cast_ballot(session, call, [a])
    cast_ballot(session, call, [a])
    cast_ballot(session, call, [b], confirmed=False)
    moderator = make_user(session, role="moderator")
    session.commit()

    computed = results.compute(session, call)
    assert [(r.project.idea.id, r.supports, r.funded) for r in computed.parts[0].rows] == [
        (a.id, 2, True), (b.id, 0, False)]
    assert (computed.used, computed.left) == (60, 40)

    client.login_as(moderator)
    preview = client.get(f"/moderation/calls/{call.id}/budget-results")
    assert "Non financé\u202f: aucun bulletin confirmé ne l’a choisi" in preview.text
    assert "Un projet qu’aucun bulletin confirmé n’a choisi n’est pas financé." in preview.text
    client.submit(f"/moderation/calls/{call.id}/budget-results")
    session.expire_all()
    assert session.get(Idea, a.id).winner and not session.get(Idea, b.id).winner


def test_published_results_stay_the_applied_selection_when_a_funded_project_is_hidden_later(
        client: WebClient, session: Session) -> None:
    # Budget 100 €: A (70 €, 2 ballots) funded, B (50 €, 1) skipped. After the results are
    # published, A is hidden by moderation: the public results must not start saying B is funded
    # (the city's selection, applied and published, is A alone).
    call = make_budget_call(session, total=100, phase="review")
    a = make_project(session, call, 70, title="Un parc")
    b = make_project(session, call, 50, title="Une rue")
    cast_ballot(session, call, [a])
    cast_ballot(session, call, [a])
    cast_ballot(session, call, [b])
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    client.submit(f"/moderation/calls/{call.id}/budget-results")
    assert client.submit(f"/moderation/calls/{call.id}/publish-results", {"confirm": "yes"}).status_code == 303
    session.expire_all()
    hidden = session.get(Idea, a.id)
    hidden.hidden_at = hidden.updated_at
    session.add(hidden)
    session.commit()

    client.cookies.clear()
    page = client.get(f"/calls/{call.slug}/budget-results")
    assert page.status_code == 200 and "Un parc" not in page.text
    assert "Financé</strong>" not in page.text
    rows = list(csv.DictReader(io.StringIO(client.get(f"/calls/{call.slug}/budget-results.csv").text)))
    assert [(r["title"], r["funded"]) for r in rows] == [("Une rue", "False")]
    data = client.get(f"/api/calls/{call.slug}/budget-results").json()
    assert [(p["idea_id"], p["funded"]) for p in data["projects"]] == [(b.id, False)]
    assert data["used_eur"] == 0


def test_pages_of_a_budget_call_do_not_show_its_projects_with_zero_supports(client: WebClient,
                                                                           session: Session) -> None:
    # A participatory budget takes ballots, not supports: every idea's support count stays 0.
    # Showing "0 soutien" next to a funded project (the call's selection, its cards, the idea
    # page) tells the public that nobody wanted it.
    call = make_budget_call(session, total=100, phase="results")
    park = make_project(session, call, 70, title="Un parc")
    cast_ballot(session, call, [park])
    park.winner = park.shortlisted = True
    session.add(park)
    session.commit()
    page = client.get(f"/calls/{call.slug}")
    assert page.status_code == 200
    selection = page.text.split('class="results-list"', 1)[1].split("</ol>", 1)[0]
    assert "Un parc" in selection and "soutien" not in selection
    card = page.text.split(f'id="idea-{park.id}-title"', 1)[1].split("</article>", 1)[0]
    assert "soutien" not in card
    idea_page = client.get(f"/ideas/{park.id}")
    assert idea_page.status_code == 200 and "0 soutien" not in idea_page.text


def test_moderators_review_a_budget_call_by_its_ballots_not_by_supports(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, total=100, phase="review")
    park = make_project(session, call, 70, title="Un parc")
    cast_ballot(session, call, [park])
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    review = client.get(f"/moderation/calls/{call.id}/review").text
    assert "budget participatif" in review and "Un parc" in review
    assert "0 soutien" not in review and "classées par soutiens" not in review
    assert client.submit(f"/moderation/calls/{call.id}/budget-results").status_code == 303
    confirm = client.get(f"/moderation/calls/{call.id}/publish-results").text
    assert "Un parc" in confirm and "soutien" not in confirm.split("Un parc", 1)[1].split("</li>", 1)[0]
