"""The technical review by the call's moderators and the administrators' budget settings:
permissions, translated refusals with nothing written, history, notification, audit."""

from datetime import timedelta

from sqlmodel import Session, select

from app.audit import AuditEntry
from app.budget.models import BudgetShare, CallBudget, IdeaReview
from app.call.models import Call
from app.clock import utcnow
from app.idea.models import IdeaStatusChange
from app.moderation.models import ModeratorAssignment
from app.notify.models import Notification
from tests.budget.helpers import editor_form, make_budget_call
from tests.factories import make_call, make_district, make_idea, make_user
from tests.support import WebClient


def test_a_moderator_costs_an_idea_which_then_goes_to_the_ballot(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des arbres rue Féronstrée")
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    queue = client.get(f"/moderation/calls/{call.id}/technical-review?todo=1")
    assert queue.status_code == 200 and "Des arbres rue Féronstrée" in queue.text

    saved = client.submit(f"/moderation/ideas/{idea.id}/technical-review",
                          {"feasible": "yes", "cost": "12 500", "explanation": "Dix arbres et leur plantation",
                           "todo": "1"})
    assert saved.status_code == 303
    session.expire_all()
    review = session.get(IdeaReview, idea.id)
    assert review is not None and review.feasible and review.cost_eur == 12_500
    history = session.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == idea.id,
                                                          IdeaStatusChange.to_status == "feasible")).one()
    assert "12\u202f500 €" in history.note and "Dix arbres" in history.note
    assert session.exec(select(Notification).where(Notification.user_id == author.id)).first() is not None
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "budget_review")).one().target_id == idea.id
    assert "Analyse technique" in client.get(f"/ideas/{idea.id}").text  # in the public history
    assert "Toutes les idées sont analysées" in client.get(f"/moderation/calls/{call.id}/technical-review?todo=1").text


def test_not_feasible_needs_a_public_reason_and_bad_costs_are_refused(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    idea = make_idea(session, call)
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    url = f"/moderation/ideas/{idea.id}/technical-review"
    no_reason = client.submit(url, {"feasible": "no", "reason": ""})
    assert no_reason.status_code == 422 and "raison publique" in no_reason.text
    for cost in ("12,50", "-5", "0", "beaucoup", "99999999999"):
        bad = client.submit(url, {"feasible": "yes", "cost": cost, "explanation": "Devis"})
        assert bad.status_code == 422 and "nombre entier d’euros" in bad.text
    assert client.submit(url, {}).status_code == 422
    session.expire_all()
    assert session.get(IdeaReview, idea.id) is None
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "budget_review")).first() is None


def test_citizens_authors_and_other_calls_moderators_cannot_review(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    staff_author = make_user(session, role="moderator")
    own = make_idea(session, call, staff_author)
    other = make_idea(session, call)
    citizen = make_user(session)
    elsewhere = make_user(session, role="moderator")
    assigned = make_user(session, role="moderator")
    session.add(ModeratorAssignment(call_id=call.id, user_id=assigned.id))
    session.add(ModeratorAssignment(call_id=call.id, user_id=staff_author.id))
    session.commit()
    form = {"feasible": "yes", "cost": "100", "explanation": "Devis"}
    client.login_as(citizen)
    assert client.get(f"/moderation/calls/{call.id}/technical-review").status_code == 403
    assert client.submit(f"/moderation/ideas/{other.id}/technical-review", form).status_code == 403
    client.login_as(staff_author)  # never on one's own idea
    assert client.submit(f"/moderation/ideas/{own.id}/technical-review", form).status_code == 403
    client.login_as(elsewhere)  # not among the call's moderators
    assert client.submit(f"/moderation/ideas/{other.id}/technical-review", form).status_code == 403
    client.login_as(assigned)
    assert client.submit(f"/moderation/ideas/{own.id}/technical-review", form).status_code == 303
    session.expire_all()
    assert session.get(IdeaReview, other.id) is None


def test_the_review_closes_when_voting_opens(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="voting")
    idea = make_idea(session, call)
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    refused = client.submit(f"/moderation/ideas/{idea.id}/technical-review",
                            {"feasible": "yes", "cost": "100", "explanation": "Devis"})
    assert refused.status_code == 409
    session.expire_all()
    assert session.get(IdeaReview, idea.id) is None


def test_an_administrator_sets_a_budget_per_district_on_the_call_editor_with_translated_errors(
        client: WebClient, session: Session) -> None:
    call = make_call(session, phase="submissions")
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    admin = make_user(session, role="admin")
    citizen = make_user(session)
    session.commit()
    url = f"/admin/calls/{call.id}"
    client.login_as(citizen)
    assert client.submit(url, editor_form(call, voting_mode="budget", scope="call", total="1000")).status_code == 403
    client.login_as(admin)
    editor = client.get(url)
    assert editor.status_code == 200
    assert 'id="budget"' in editor.text and "Budget par quartier, en euros" in editor.text  # one form
    # The former page of its own leads to the editor's fieldset.
    moved = client.get(f"{url}/budget", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"{url}#budget"

    # Every problem at once, the call's and the budget's, and nothing written.
    bad = client.submit(url, editor_form(call, title="x", voting_mode="budget", scope="call", total="12,50",
                                         min_percent="150"))
    assert bad.status_code == 422
    assert "Indiquez le budget" in bad.text and "pourcentage de 0 à 100" in bad.text
    assert "Le titre doit compter entre 3 et 160 caractères." in bad.text
    assert 'value="12,50"' in bad.text  # as typed
    empty = client.submit(url, editor_form(call, voting_mode="budget", scope="district"))
    assert empty.status_code == 422 and "au moins un quartier" in empty.text
    session.expire_all()
    assert session.get(CallBudget, call.id) is None and session.get(Call, call.id).voting_mode == "supports"
    assert session.get(Call, call.id).title == call.title

    saved = client.submit(url, editor_form(call, title="Budget participatif du Nord et du Sud",
                                           voting_mode="budget", scope="district",
                                           **{f"district_{north.id}": "150 000", f"district_{south.id}": "50000",
                                              f"theme_{north.id}": "999"},  # another split: ignored
                                           min_projects="2", min_percent="50"))
    assert saved.status_code == 303 and saved.headers["location"] == url
    session.expire_all()
    budget = session.get(CallBudget, call.id)
    assert budget is not None and (budget.scope, budget.total_eur, budget.min_projects) == ("district", 200_000, 2)
    shares = {s.district_id: s.amount_eur for s in session.exec(select(BudgetShare)).all()}
    assert shares == {north.id: 150_000, south.id: 50_000}
    fresh = session.get(Call, call.id)
    assert fresh.voting_mode == "budget" and fresh.title == "Budget participatif du Nord et du Sud"
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "budget_save")).one()
    page = client.get(url).text
    assert 'value="150000"' in page and 'value="budget" checked' in page


def test_budget_settings_are_locked_once_voting_starts(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="voting", total=1000)
    admin = make_user(session, role="admin")
    session.commit()
    client.login_as(admin)
    url = f"/admin/calls/{call.id}"
    assert "<fieldset id=\"budget\" class=\"budget-settings\" disabled" in client.get(url).text
    refused = client.submit(url, editor_form(call, voting_mode="budget", scope="call", total="999999"))
    assert refused.status_code == 422 and "le vote a commencé" in refused.text
    session.expire_all()
    assert session.get(CallBudget, call.id).total_eur == 1000
    # The rest of the call still changes: the disabled fieldset is not sent, the budget stays.
    saved = client.submit(url, editor_form(call, title="Budget participatif prolongé"))
    assert saved.status_code == 303
    session.expire_all()
    assert session.get(Call, call.id).title == "Budget participatif prolongé"
    assert session.get(CallBudget, call.id).total_eur == 1000 and session.get(Call, call.id).voting_mode == "budget"
    # Sent unchanged (a browser that ignores "disabled"): nothing to refuse.
    assert client.submit(url, editor_form(call, voting_mode="budget", scope="call", total="1000")).status_code == 303


def test_a_queue_of_300_ideas_reads_50_a_page_and_keeps_the_unreviewed_first(client: WebClient,
                                                                             session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    author = make_user(session)
    ideas = [make_idea(session, call, author, title=f"Idée de quartier {n:03d}") for n in range(300)]
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    page = client.get(f"/moderation/calls/{call.id}/technical-review?todo=1")
    assert page.status_code == 200
    assert page.text.count('class="review-form"') == 50
    assert "Idées analysées\u202f: 0 sur 300" in page.text and "Page 1 sur 6" in page.text
    assert "autofocus" in page.text  # the first idea's first choice: reviewing goes on from the keyboard

    saved = client.submit(f"/moderation/ideas/{ideas[0].id}/technical-review",
                          {"feasible": "no", "reason": "Hors du domaine public", "todo": "1"})
    # No fragment: it would keep the next idea's choice from taking the focus (tests/e2e).
    assert saved.headers["location"] == f"/moderation/calls/{call.id}/technical-review?todo=1"
    after = client.get(saved.headers["location"]).text
    assert ">Idée de quartier 000</a>" not in after and ">Idée de quartier 001</a>" in after
    assert "Idées analysées\u202f: 1 sur 300" in after
    last = client.get(f"/moderation/calls/{call.id}/technical-review?page=6").text
    assert "Idée de quartier 299" in last and "Page 6 sur 6" in last


def test_a_refused_review_in_a_long_queue_is_summed_up_at_the_top_and_focused(client: WebClient,
                                                                               session: Session) -> None:
    # A moderator reviewing from the keyboard lands at the top of a page of 50 forms after a
    # refusal: the error must be said there, lead to the field, and the field must take the focus.
    call = make_budget_call(session, phase="submissions")
    ideas = [make_idea(session, call, title=f"Idée {n}") for n in range(40)]
    target = ideas[35]
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    bad = client.submit(f"/moderation/ideas/{target.id}/technical-review",
                        {"feasible": "yes", "cost": "12,50", "explanation": "Devis"})
    assert bad.status_code == 422
    top, queue = bad.text.split('id="queue"', 1)
    summary = top.split('role="alert"', 1)[1]
    assert "Idée 35" in summary and "nombre entier d’euros" in summary
    assert f'href="#f-{target.id}-cost"' in summary
    field = queue.split(f'id="f-{target.id}-cost"', 1)[1].split(">", 1)[0]
    assert "autofocus" in field and 'aria-invalid="true"' in field
    assert queue.count("autofocus") == 1


def test_the_queue_warns_of_an_idea_no_budget_of_a_split_budget_holds(client: WebClient, session: Session) -> None:
    # With one budget per district, an idea without a district (or in a district given no
    # budget) never reaches the ballot, however feasible and costed: the moderator must know.
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    call = make_budget_call(session, phase="submissions", districts=[(north, 100)])
    held = make_idea(session, call, title="Au nord", district=north)
    nowhere = make_idea(session, call, title="Sans quartier")
    unfunded = make_idea(session, call, title="Au sud", district=south)
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    page = client.get(f"/moderation/calls/{call.id}/technical-review").text
    warning = "n’ira pas au bulletin"

    def row(idea_id: int | None) -> str:
        return page.split(f'id="review-{idea_id}"', 1)[1].split("</li>", 1)[0]

    assert warning not in row(held.id)
    assert warning in row(nowhere.id) and warning in row(unfunded.id)


def test_the_queue_counts_reviewed_ideas_in_good_english(client: WebClient, session: Session) -> None:
    call = make_budget_call(session, phase="submissions")
    reviewed = make_idea(session, call)
    make_idea(session, call)
    make_idea(session, call)
    session.add(IdeaReview(idea_id=reviewed.id, feasible=False, reason="Hors compétence"))
    moderator = make_user(session, role="moderator")
    session.commit()
    client.login_as(moderator)
    page = client.get(f"/moderation/calls/{call.id}/technical-review?lang=en").text
    assert "Ideas reviewed: 1 of 3." in page  # not "1 of 3 idea reviewed."
    assert "Idées analysées\u202f: 1 sur 3." in client.get(f"/moderation/calls/{call.id}/technical-review?lang=fr").text


def test_a_new_call_is_created_as_a_participatory_budget_in_one_save(client: WebClient, session: Session) -> None:
    admin = make_user(session, role="admin")
    session.commit()
    client.login_as(admin)

    def later(days: int) -> str:  # a date to come, as the editor's datetime-local field writes it
        return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT09:00")

    form = {"title": "Budget participatif 2027", "slug": "budget-2027", "submissions_start": later(10),
            "technical_review_start": later(40), "voting_start": later(70), "closes_at": later(300),
            "ideas_per_citizen": "3", "votes_per_citizen": "3",
            "vote_scope": "call", "report_threshold": "3", "submit_access": "email", "vote_access": "email",
            "original_language": "fr", "voting_mode": "budget", "scope": "call", "total": "500 000",
            "min_projects": "1", "min_percent": "0"}
    created = client.submit("/admin/calls/new", form)
    assert created.status_code == 303
    call = session.exec(select(Call).where(Call.slug == "budget-2027")).one()
    assert call.voting_mode == "budget" and call.technical_review_start is not None
    assert session.get(CallBudget, call.id).total_eur == 500_000  # type: ignore[union-attr]
    # The technical review date without the budget: refused, and no call is created.
    refused = client.submit("/admin/calls/new", {**form, "slug": "soutiens-2027", "voting_mode": "supports"})
    assert refused.status_code == 422 and "Seul un budget participatif" in refused.text
    assert session.exec(select(Call).where(Call.slug == "soutiens-2027")).first() is None
