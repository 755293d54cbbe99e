"""Each decision: exactly one audit entry, one public history line with its why, and the author
(and, for public events, the followers) told. Bad input changes nothing."""

from datetime import timedelta

from sqlmodel import Session, select

from app.clock import utcnow
from app.follow import service as follow_service
from app.idea import service as idea_service
from app.idea.models import Idea
from app.moderation.models import AuditEntry
from app.report.models import Report
from app.settings import Settings
from tests.factories import make_idea, make_user
from tests.moderation.helpers import audit_count, emails_to, history, notifications_for, world
from tests.support import WebClient


def _idea(session: Session, idea_id: int | None) -> Idea:
    session.expire_all()
    idea = session.get(Idea, idea_id)
    assert idea is not None
    return idea


def test_approve_publishes_writes_one_audit_entry_and_tells_the_author(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    response = client.submit(f"/moderation/ideas/{w.idea.id}/approve")
    assert response.status_code == 303
    idea = _idea(session, w.idea.id)
    assert idea.status == "published" and idea.published_at is not None
    entries = session.exec(select(AuditEntry)).all()
    assert [(e.actor_id, e.action, e.target_type, e.target_id, e.from_status, e.to_status) for e in entries] == [
        (w.moderator.id, "approve", "idea", w.idea.id, "submitted", "published")]
    changes = history(session, w.idea.id)
    assert [(c.from_status, c.to_status, c.actor_id) for c in changes] == [("submitted", "published", w.moderator.id)]
    notes = notifications_for(session, w.author)
    assert len(notes) == 1 and notes[0].idea_id == w.idea.id
    assert len(emails_to(session, w.author.email)) == 1
    assert notifications_for(session, w.moderator) == []
    # The public page now shows it to anyone.
    client.cookies.clear()
    assert client.get(f"/ideas/{w.idea.id}").status_code == 200


def test_request_changes_needs_a_message_and_the_loop_can_repeat(client: WebClient, session: Session,
                                                                settings: Settings) -> None:
    w = world(session)
    client.login_as(w.moderator)
    refused = client.submit(f"/moderation/ideas/{w.idea.id}/request-changes", {"message": "  "})
    assert refused.status_code == 422
    assert 'id="f-message-error"' in refused.text
    assert _idea(session, w.idea.id).status == "submitted" and audit_count(session) == 0

    for round_ in (1, 2):
        message = f"Précisez l'emplacement exact (tour {round_})."
        done = client.submit(f"/moderation/ideas/{w.idea.id}/request-changes", {"message": message})
        assert done.status_code == 303
        idea = _idea(session, w.idea.id)
        assert idea.status == "changes_requested"
        assert history(session, w.idea.id)[-1].note == message
        assert emails_to(session, w.author.email)[-1]["body"].count(f"tour {round_}") == 1
        # The author edits and resubmits (the ideas service owns that transition).
        idea_service.submit_idea(session, w.call, idea, w.author, settings=settings)
        session.commit()
        assert _idea(session, w.idea.id).status == "submitted"
    assert audit_count(session, action="request_changes") == 2
    client.submit(f"/moderation/ideas/{w.idea.id}/approve")
    assert _idea(session, w.idea.id).status == "published"
    assert audit_count(session) == 3


def test_reject_needs_a_reason_from_the_list_or_written(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    assert client.submit(f"/moderation/ideas/{w.idea.id}/reject", {"reason": ""}).status_code == 422
    assert client.submit(f"/moderation/ideas/{w.idea.id}/reject",
                         {"reason_template": "nonsense", "reason": "x y"}).status_code == 422
    assert _idea(session, w.idea.id).status == "submitted" and audit_count(session) == 0

    response = client.submit(f"/moderation/ideas/{w.idea.id}/reject",
                             {"reason_template": "duplicate", "reason": "Voyez l'idée n° 12."})
    assert response.status_code == 303
    idea = _idea(session, w.idea.id)
    assert idea.status == "rejected"
    note = history(session, w.idea.id)[-1].note
    assert note.startswith("Une idée très semblable a déjà été proposée.") and note.endswith("Voyez l'idée n° 12.")
    entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.reason) == ("reject", note)
    mail = emails_to(session, w.author.email)[-1]
    assert "Voyez l" in mail["body"] and "semblable" in mail["body"]


def test_an_impossible_transition_is_refused_and_writes_nothing(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    client.login_as(w.moderator)
    response = client.submit(f"/moderation/ideas/{w.idea.id}/approve")
    assert response.status_code == 409
    assert audit_count(session) == 0 and history(session, w.idea.id) == []


def test_hide_and_restore_old_reports_do_not_count_again(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    reporters = [make_user(session) for _ in range(3)]
    for person in reporters[:2]:
        session.add(Report(target_type="idea", target_id=w.idea.id, idea_id=w.idea.id, reporter_id=person.id,
                           reason="spam"))
    session.commit()
    client.login_as(w.moderator)
    assert client.submit(f"/moderation/ideas/{w.idea.id}/hide", {"reason": ""}).status_code == 422
    assert _idea(session, w.idea.id).hidden_at is None

    assert client.submit(f"/moderation/ideas/{w.idea.id}/hide", {"reason": "Publicité"}).status_code == 303
    assert _idea(session, w.idea.id).hidden_at is not None
    anonymous = WebClient(client.app, base_url="http://testserver")
    assert anonymous.get(f"/ideas/{w.idea.id}").status_code == 404

    assert client.submit(f"/moderation/ideas/{w.idea.id}/restore").status_code == 303
    idea = _idea(session, w.idea.id)
    assert idea.hidden_at is None
    assert anonymous.get(f"/ideas/{w.idea.id}").status_code == 200
    reports = session.exec(select(Report)).all()
    assert all(r.resolved_at is not None for r in reports)
    # A new report counts on its own; the old, resolved ones do not.
    session.add(Report(target_type="idea", target_id=w.idea.id, idea_id=w.idea.id, reporter_id=reporters[2].id,
                       reason="spam"))
    session.commit()
    from app.moderation.report_decisions import open_report_count  # noqa: PLC0415

    assert open_report_count(session, "idea", w.idea.id) == 1
    assert [c.to_status for c in history(session, w.idea.id)] == ["hidden", "restored"]
    assert audit_count(session, action="hide") == 1 and audit_count(session, action="restore") == 1
    assert len(notifications_for(session, w.author)) == 2


def test_answer_tells_author_and_followers_and_shows_on_the_idea_page(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    follower = make_user(session, display_name="Suiveuse Eva")
    follow_service.follow(session, idea_id=w.idea.id, user_id=follower.id)
    session.commit()
    client.login_as(w.moderator)
    bad = client.submit(f"/moderation/ideas/{w.idea.id}/answer", {"answer_status": "maybe", "answer_md": ""})
    assert bad.status_code == 422 and audit_count(session) == 0

    response = client.submit(f"/moderation/ideas/{w.idea.id}/answer",
                             {"answer_status": "accepted", "answer_md": "Nous installerons **dix** bancs."})
    assert response.status_code == 303
    idea = _idea(session, w.idea.id)
    assert idea.answer_status == "accepted" and "<strong>dix</strong>" in idea.answer_html
    assert idea.answered_by_id == w.moderator.id
    assert audit_count(session, action="answer") == 1
    assert history(session, w.idea.id)[-1].to_status == "answered"
    assert len(notifications_for(session, w.author)) == 1
    assert len(notifications_for(session, follower)) == 1
    assert notifications_for(session, w.citizen) == []
    page = WebClient(client.app, base_url="http://testserver").get(f"/ideas/{w.idea.id}")
    assert "<strong>dix</strong>" in page.text


def test_an_author_who_moderates_cannot_decide_on_their_own_idea(client: WebClient, session: Session) -> None:
    w = world(session)
    own = make_idea(session, w.call, w.moderator, status="submitted", title="Mon idée à moi")
    published = make_idea(session, w.call, w.moderator, status="published", title="Mon autre idée",
                          hidden_at=utcnow())
    session.commit()
    client.login_as(w.moderator)
    attempts = [
        (f"/moderation/ideas/{own.id}/approve", {}),
        (f"/moderation/ideas/{own.id}/reject", {"reason": "Non"}),
        (f"/moderation/ideas/{published.id}/restore", {}),
        (f"/moderation/ideas/{published.id}/answer", {"answer_status": "accepted", "answer_md": "Oui, bien sûr"}),
    ]
    for url, data in attempts:
        assert client.submit(url, data).status_code == 403, url
    # Bulk approval skips it too.
    client.submit("/moderation/bulk-approve", {"idea_ids": [str(own.id)]})
    assert _idea(session, own.id).status == "submitted"
    assert _idea(session, published.id).hidden_at is not None
    assert _idea(session, published.id).answer_status is None
    assert audit_count(session) == 0
    page = client.get(f"/moderation/ideas/{own.id}")
    assert page.status_code == 200 and f"/moderation/ideas/{own.id}/approve" not in page.text


def test_a_plain_author_cannot_approve_answer_or_unhide_through_a_crafted_post(client: WebClient,
                                                                               session: Session) -> None:
    w = world(session)
    hidden = make_idea(session, w.call, w.author, status="published", hidden_at=utcnow())
    session.commit()
    client.login_as(w.author)
    for url, data in [(f"/moderation/ideas/{w.idea.id}/approve", {}),
                      (f"/moderation/ideas/{hidden.id}/restore", {}),
                      (f"/moderation/ideas/{hidden.id}/answer", {"answer_status": "accepted", "answer_md": "Oui"})]:
        assert client.submit(url, data).status_code == 403
    assert _idea(session, w.idea.id).status == "submitted"
    assert _idea(session, hidden.id).hidden_at is not None and _idea(session, hidden.id).answer_status is None
    assert audit_count(session) == 0


def test_bulk_approve_writes_one_entry_per_idea(client: WebClient, session: Session) -> None:
    w = world(session)
    others = [make_idea(session, w.call, status="submitted") for _ in range(55)]  # a full page and more
    published = make_idea(session, w.call, status="published")
    session.commit()
    client.login_as(w.moderator)
    ids = [str(i.id) for i in [w.idea, *others, published]] + ["abc", "999999"]
    response = client.submit("/moderation/bulk-approve", {"idea_ids": ids})
    assert response.status_code == 303
    assert audit_count(session, action="approve") == 56
    assert all(_idea(session, i.id).status == "published" for i in [w.idea, *others])


def test_bulk_approval_reports_each_count_in_its_own_plural(client: WebClient, session: Session) -> None:
    # It said "1 idées approuvées, 1 ignorées": two counts in one sentence, neither in its form.
    w = world(session)
    own = make_idea(session, w.call, w.moderator, status="submitted")
    others = [make_idea(session, w.call, status="submitted") for _ in range(2)]
    published = [make_idea(session, w.call, status="published") for _ in range(2)]
    session.commit()
    client.login_as(w.moderator)

    def messages(ids: list[int | None]) -> str:
        response = client.submit("/moderation/bulk-approve", {"idea_ids": [str(i) for i in ids]})
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
        return page.replace("\u202f", " ").replace("&nbsp;", " ")

    first = messages([w.idea.id, own.id])
    assert "1 idée approuvée." in first and "1 idée ignorée : déjà décidée, ou la vôtre." in first
    then = messages([i.id for i in [*others, *published]])
    assert "2 idées approuvées." in then and "2 idées ignorées : déjà décidées, ou les vôtres." in then
    assert "ignorée" not in messages([own.id]).replace("1 idée ignorée", "")  # shown once, then gone
    assert _idea(session, own.id).status == "submitted"


def test_queue_tabs_count_filter_and_list_oldest_first(client: WebClient, session: Session) -> None:
    w = world(session)
    now = utcnow()
    old = make_idea(session, w.call, status="submitted", title="La plus ancienne", submitted_at=now - timedelta(days=9))
    make_idea(session, w.call, status="submitted", title="Récente", submitted_at=now - timedelta(hours=1))
    make_idea(session, w.call, status="published", title="Sans réponse")
    w.idea.submitted_at = now - timedelta(days=2)
    session.add(w.idea)
    session.commit()
    client.login_as(w.moderator)
    page = client.get("/moderation")
    assert page.status_code == 200
    assert "(3)" in page.text  # pending
    text = page.text
    assert text.index("La plus ancienne") < text.index("Plus de bancs au parc") < text.index("Récente")
    filtered = client.get("/moderation", params={"age": "7"})
    assert "La plus ancienne" in filtered.text and "Récente" not in filtered.text
    answers = client.get("/moderation", params={"tab": "answers"})
    assert "Sans réponse" in answers.text and "Récente" not in answers.text
    detail = client.get(f"/moderation/ideas/{old.id}")
    assert detail.status_code == 200 and f"/moderation/ideas/{old.id}/approve" in detail.text


def test_a_restored_idea_is_hidden_again_only_by_new_reporters(client: WebClient, session: Session) -> None:
    from app.report import service as report_service  # noqa: PLC0415

    w = world(session, status="published")
    w.call.report_threshold = 2
    session.add(w.call)
    first = [make_user(session) for _ in range(2)]
    later = [make_user(session) for _ in range(2)]
    session.commit()
    for person in first:
        report_service.report_idea(session, client.settings, idea=w.idea, call=w.call, reporter=person, reason="spam")
    session.commit()
    assert _idea(session, w.idea.id).hidden_at is not None  # hidden by the reports
    client.login_as(w.moderator)
    queue = client.get("/moderation", params={"tab": "reported"})
    assert f"/moderation/ideas/{w.idea.id}" in queue.text
    assert client.submit(f"/moderation/ideas/{w.idea.id}/restore").status_code == 303
    assert f"/moderation/ideas/{w.idea.id}\"" not in client.get("/moderation", params={"tab": "reported"}).text

    idea = _idea(session, w.idea.id)
    report_service.report_idea(session, client.settings, idea=idea, call=w.call, reporter=later[0], reason="spam")
    session.commit()
    assert _idea(session, w.idea.id).hidden_at is None  # one new reporter is below the threshold
    report_service.report_idea(session, client.settings, idea=_idea(session, w.idea.id), call=w.call,
                               reporter=later[1], reason="spam")
    session.commit()
    assert _idea(session, w.idea.id).hidden_at is not None


def test_once_moderators_are_assigned_to_a_call_only_they_and_admins_decide(client: WebClient,
                                                                           session: Session) -> None:
    from app.account.models import Role  # noqa: PLC0415
    from app.moderation.models import ModeratorAssignment  # noqa: PLC0415

    w = world(session)
    colleague = make_user(session, role=Role.moderator)
    second = make_idea(session, w.call, status="submitted")
    session.add(ModeratorAssignment(call_id=w.call.id, user_id=colleague.id))
    session.commit()
    client.login_as(w.moderator)
    assert client.submit(f"/moderation/ideas/{w.idea.id}/approve").status_code == 403
    page = client.get(f"/moderation/ideas/{w.idea.id}")
    assert page.status_code == 200 and "/approve" not in page.text
    client.login_as(colleague)
    assert client.submit(f"/moderation/ideas/{w.idea.id}/approve").status_code == 303
    client.login_as(w.admin)
    assert client.submit(f"/moderation/ideas/{second.id}/approve").status_code == 303
    assert audit_count(session, action="approve") == 2


def test_a_decision_made_on_a_stale_page_is_refused(client: WebClient, session: Session) -> None:
    w = world(session)
    page = client.login_as(w.moderator).get(f"/moderation/ideas/{w.idea.id}")
    assert 'name="expected" value="submitted"' in page.text
    other = WebClient(client.app, base_url="http://testserver").login_as(w.admin)
    assert other.submit(f"/moderation/ideas/{w.idea.id}/approve", {"expected": "submitted"}).status_code == 303
    # The first moderator still sees "submitted" and rejects: the idea has changed, nothing is written.
    stale = client.submit(f"/moderation/ideas/{w.idea.id}/reject",
                          {"expected": "submitted", "reason": "Hors sujet."})
    assert stale.status_code == 409 and "entre-temps" in stale.text
    assert _idea(session, w.idea.id).status == "published"
    assert audit_count(session) == 1


def test_reported_comment_hidden_with_a_reason_and_unfounded_reports_dismissed(client: WebClient,
                                                                               session: Session) -> None:
    from app.comment.models import Comment  # noqa: PLC0415

    w = world(session, status="published")
    rude = Comment(idea_id=w.idea.id, author_id=w.citizen.id, body_md="Injure", body_html="<p>Injure</p>")
    fine = Comment(idea_id=w.idea.id, author_id=w.citizen.id, body_md="Bonne idée", body_html="<p>Bonne idée</p>")
    session.add_all([rude, fine])
    session.flush()
    reporter = make_user(session)
    for comment in (rude, fine):
        session.add(Report(target_type="comment", target_id=comment.id, idea_id=w.idea.id, reporter_id=reporter.id,
                           reason="insult"))
    session.commit()
    client.login_as(w.moderator)
    queue = client.get("/moderation", params={"tab": "reported"})
    assert "Éléments signalés <span class=\"tab-count\">(2)</span>" in queue.text
    assert "Insultes ou harcèlement" in queue.text
    page = client.get(f"/moderation/ideas/{w.idea.id}")
    assert f'id="comment-{rude.id}"' in page.text and f'id="comment-{fine.id}"' in page.text

    assert client.submit(f"/moderation/comments/{rude.id}/hide", {"reason": ""}).status_code == 303  # refused
    assert audit_count(session) == 0
    assert client.submit(f"/moderation/comments/{rude.id}/hide", {"reason": "Propos injurieux"}).status_code == 303
    assert client.submit(f"/moderation/comments/{fine.id}/dismiss-reports").status_code == 303
    session.expire_all()
    assert session.get(Comment, rude.id).hidden_at is not None  # type: ignore[union-attr]
    assert session.get(Comment, fine.id).hidden_at is None  # type: ignore[union-attr]
    assert all(r.resolved_at is not None for r in session.exec(select(Report)).all())
    assert audit_count(session, action="hide") == 1 and audit_count(session, action="dismiss_reports") == 1
    assert "Rien n’attend ici" in client.get("/moderation", params={"tab": "reported"}).text
    # Dismissing twice has nothing left to dismiss.
    assert client.submit(f"/moderation/comments/{fine.id}/dismiss-reports").status_code == 409


def test_moderators_see_the_photos_of_a_pending_idea(client: WebClient, session: Session) -> None:
    from tests.idea.helpers import add_photo  # noqa: PLC0415

    w = world(session)
    photo = add_photo(session, client.settings, w.idea, alt="Le parc <b>vide</b>")
    session.commit()
    client.login_as(w.moderator)
    page = client.get(f"/moderation/ideas/{w.idea.id}")
    src = f"/ideas/{w.idea.id}/photos/{photo.id}/card"
    assert f'src="{src}"' in page.text and "Le parc &lt;b&gt;vide&lt;/b&gt;" in page.text
    assert client.get(src).status_code == 200
    # Not to anyone else while the idea waits for moderation.
    assert WebClient(client.app, base_url="http://testserver").get(src).status_code == 404
