"""Review and selection, publishing results, dialogue figures (SVG + table), administration."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from app.account.models import Role, User
from app.call.models import Call
from app.call.phases import current_phase
from app.clock import utcnow
from app.comment.models import Comment
from app.follow import service as follow_service
from app.idea.models import Idea, IdeaStatusChange
from app.moderation import dialogue
from app.moderation.models import AuditEntry, ModeratorAssignment
from tests.factories import make_idea, make_user
from tests.moderation.helpers import audit_count, notifications_for, world
from tests.support import WebClient


def test_review_ranks_by_votes_and_publishing_moves_the_call_to_results(client: WebClient,
                                                                       session: Session) -> None:
    w = world(session, phase="review", status="published")
    w.idea.vote_count = 3
    top = make_idea(session, w.call, status="published", title="La plus soutenue", vote_count=10)
    make_idea(session, w.call, status="submitted", title="Jamais publiée")
    follower = make_user(session)
    follow_service.follow(session, idea_id=top.id, user_id=follower.id)
    session.commit()
    client.login_as(w.moderator)
    assert f'href="/moderation/calls/{w.call.id}/review"' in client.get("/moderation").text
    page = client.get(f"/moderation/calls/{w.call.id}/review")
    assert page.status_code == 200
    assert page.text.index("La plus soutenue") < page.text.index("Plus de bancs au parc")
    assert "Jamais publiée" not in page.text

    # No winner yet: publishing is refused and changes nothing.
    assert client.submit(f"/moderation/calls/{w.call.id}/publish-results", {"confirm": "yes"}).status_code == 409
    response = client.submit(f"/moderation/ideas/{top.id}/selection", {"winner": "1", "jury_note": "Unanime."})
    assert response.status_code == 303
    session.expire_all()
    chosen = session.get(Idea, top.id)
    assert chosen is not None and (chosen.winner, chosen.shortlisted, chosen.jury_note) == (True, True, "Unanime.")
    assert audit_count(session, action="selection") == 1

    assert client.submit(f"/moderation/calls/{w.call.id}/publish-results", {"confirm": "yes"}).status_code == 303
    session.expire_all()
    call = session.get(Call, w.call.id)
    assert call is not None and call.phase_override == "results" and current_phase(call) == "results"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "publish_results")).one()
    assert entry.details["winners"] == [top.id] and entry.from_status == "review"
    assert [n.kind for n in notifications_for(session, follower)] == ["results"]
    # The selection is public from now on, in the idea's history, with the jury's note.
    changes = session.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == top.id)).all()
    assert [(c.to_status, c.note) for c in changes] == [("winner", "Unanime.")]
    assert "Unanime." in WebClient(client.app, base_url="http://testserver").get(f"/ideas/{top.id}").text
    # Once published, the selection is closed.
    assert client.submit(f"/moderation/ideas/{w.idea.id}/selection", {"shortlisted": "1"}).status_code == 409
    assert client.submit(f"/moderation/calls/{w.call.id}/publish-results", {"confirm": "yes"}).status_code == 409


def test_selection_is_refused_outside_the_review_phase(client: WebClient, session: Session) -> None:
    w = world(session, phase="voting", status="published")
    client.login_as(w.moderator)
    assert client.submit(f"/moderation/ideas/{w.idea.id}/selection", {"winner": "1"}).status_code == 409
    session.expire_all()
    idea = session.get(Idea, w.idea.id)
    assert idea is not None and not idea.winner and audit_count(session) == 0


def test_dialogue_figures_and_their_svg_chart(client: WebClient, session: Session) -> None:
    w = world(session, status="published")
    now = utcnow()
    answered = [make_idea(session, w.call, status="published", published_at=now - timedelta(days=d))
                for d in (10, 20, 30)]
    make_idea(session, w.call, status="published", published_at=now - timedelta(days=45))  # late, unanswered
    session.commit()
    client.login_as(w.moderator)
    for idea in answered:
        client.submit(f"/moderation/ideas/{idea.id}/answer",
                      {"answer_status": "under_study", "answer_md": "À l'étude."})
    # A citizen's comment answered by the city, and one left without a reply.
    session.add(Comment(idea_id=answered[0].id, author_id=w.citizen.id, body_md="?", body_html="<p>?</p>"))
    session.add(Comment(idea_id=answered[0].id, author_id=w.moderator.id, body_md="!", body_html="<p>!</p>"))
    session.add(Comment(idea_id=answered[1].id, author_id=w.citizen.id, body_md="?", body_html="<p>?</p>"))
    session.commit()

    figures = dialogue.figures(session, w.call.id)
    assert (figures.ideas, figures.answered, figures.answered_share) == (5, 3, 60)
    assert figures.median_days is not None and 19.9 <= figures.median_days <= 20.1
    assert figures.waiting == 1  # the 45-day-old one; the world's idea was published just now
    assert (figures.commented_ideas, figures.city_replied, figures.staff_comments) == (2, 1, 1)
    assert [b.value for b in figures.by_status if b.key == "under_study"] == [3]

    admin = WebClient(client.app, base_url="http://testserver").login_as(w.admin)
    page = admin.get("/admin/dialogue")
    assert page.status_code == 200
    assert 'class="dialogue-chart"' in page.text and "<table" in page.text and "60 %" in page.text
    assert not re.search(r"\sstyle=", page.text)  # the CSP forbids inline styles
    # The call page shows the same figures to everyone: a chart image and a table.
    visitor = WebClient(client.app, base_url="http://testserver")
    call_page = visitor.get(f"/calls/{w.call.slug}")
    assert call_page.status_code == 200
    assert f'src="/calls/{w.call.slug}/dialogue.svg"' in call_page.text
    assert "Idées avec une réponse officielle" in call_page.text and "3 (60%)" in call_page.text
    chart = visitor.get(f"/calls/{w.call.slug}/dialogue.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.count("<rect") == 1 + 2 * 6 and "style=" not in chart.text and "<script" not in chart.text
    assert f'width="{0.6 * dialogue.TRACK_WIDTH:g}"' in chart.text  # 60% of the ideas, on the shared track
    assert admin.get("/admin/dialogue.svg").status_code == 200
    index = admin.get("/admin")
    assert all(link in index.text for link in ('href="/admin/users"', 'href="/admin/audit"', 'href="/admin/dialogue"'))


def test_admins_change_roles_and_assign_moderators_with_an_audit_trail(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.admin)
    listing = client.get("/admin/users", params={"q": "carl"})
    assert listing.status_code == 200 and "Citoyen Carl" in listing.text and "Autrice Dina" not in listing.text
    assert client.submit(f"/admin/users/{w.citizen.id}/role", {"role": "moderator"}).status_code == 303
    assert client.submit(f"/admin/users/{w.admin.id}/role", {"role": "citizen"}).status_code == 303  # refused
    assert client.submit(f"/admin/users/{w.citizen.id}/role", {"role": "emperor"}).status_code == 303  # refused
    session.expire_all()
    promoted, admin = session.get(User, w.citizen.id), session.get(User, w.admin.id)
    assert promoted is not None and promoted.role == Role.moderator
    assert admin is not None and admin.role == Role.admin
    assert audit_count(session, action="role_change") == 1

    assert client.submit(f"/admin/calls/{w.call.id}/moderators", {"user_id": str(w.moderator.id)}).status_code == 303
    assert client.submit(f"/admin/calls/{w.call.id}/moderators", {"user_id": str(w.author.id)}).status_code == 303
    assigned = session.exec(select(ModeratorAssignment.user_id).where(ModeratorAssignment.call_id == w.call.id)).all()
    assert list(assigned) == [w.moderator.id]
    page = client.get(f"/admin/calls/{w.call.id}/moderators")
    assert page.status_code == 200 and "Modératrice Ana" in page.text
    remove = client.submit(f"/admin/calls/{w.call.id}/moderators/{w.moderator.id}/remove")
    assert remove.status_code == 303
    assert audit_count(session, action="assign_moderator") == 1
    assert audit_count(session, action="unassign_moderator") == 1

    log = client.get("/admin/audit", params={"action": "role_change"})
    assert log.status_code == 200
    assert "<td>Rôle modifié</td>" in log.text and "<td>Modérateur attribué</td>" not in log.text
    today = utcnow().date()
    assert "<td>Rôle modifié</td>" in client.get("/admin/audit", params={"since": today.isoformat()}).text
    old_days = client.get("/admin/audit", params={"until": (today - timedelta(days=1)).isoformat()})
    assert old_days.status_code == 200 and "<td>Rôle modifié</td>" not in old_days.text
    assert client.get("/admin/audit", params={"since": "pas une date"}).status_code == 200


def test_the_audit_log_has_no_way_to_change_an_entry(client: WebClient) -> None:
    from fastapi.routing import iter_route_contexts  # noqa: PLC0415

    for context in iter_route_contexts(client.app.routes):
        path = context.path or ""
        if "audit" in path:
            assert (context.methods or set()) <= {"GET", "HEAD"}, path


def test_an_audit_entry_cannot_be_changed_or_deleted_through_the_orm(session: Session) -> None:
    import pytest  # noqa: PLC0415

    from app.audit import record  # noqa: PLC0415

    moderator = make_user(session, role=Role.moderator)
    entry = record(session, actor=moderator, action="ban", target_type="user", target_id=1, reason="Spam")
    session.commit()
    entry.reason = "Rien à voir"
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEntry, entry.id))
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()
    session.expire_all()
    kept = session.get(AuditEntry, entry.id)
    assert kept is not None and kept.reason == "Spam"
