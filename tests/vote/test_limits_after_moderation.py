"""Nobody holds more supports on public ideas than the call allows, whatever moderation does
(issue 10, finding 4): a support that comes back into a count (an idea restored, published
again, merged, moved to another theme, its theme removed) only takes a free place; otherwise it
is set aside, its supporter is told and may choose again, and the system's decision is audited.
"""

from sqlmodel import Session, col, select

from app.account.models import Role, User
from app.audit import REASON_OVER_LIMIT
from app.call.models import Call
from app.idea.models import Idea
from app.moderation.models import AuditEntry
from app.notify.models import Notification
from app.vote import service as vote_service
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_idea, make_user
from tests.moderation.helpers import emails_to
from tests.support import WebClient

JSON = {"Accept": "application/json"}


def held(session: Session, user: User, call: Call, category_id: int | None = None) -> int:
    """Supports `user` holds on public ideas under the limit of an idea of theme `category_id`."""
    session.expire_all()
    fresh = session.get(Call, call.id)
    assert fresh is not None
    return vote_service.held(session, user_id=user.id or 0, call=fresh, category_id=category_id)


def supports(session: Session, user: User, idea: Idea) -> bool:
    session.expire_all()
    return vote_service.has_voted(session, user_id=user.id or 0, idea_id=idea.id or 0)


def counter_matches_rows(session: Session, *ideas: Idea) -> bool:
    session.expire_all()
    return all(vote_service.vote_count(session, i.id or 0) == vote_service.count_rows(session, i.id or 0)
               for i in ideas)


def set_aside_notices(session: Session, user: User) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id,
                                                        Notification.kind == "support")
                             .order_by(col(Notification.id))).all())


def system_entries(session: Session, idea: Idea) -> list[AuditEntry]:
    session.expire_all()
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == "set_aside_supports",
                                                      AuditEntry.target_id == idea.id)).all())


def support_all(client: WebClient, ideas: list[Idea]) -> list[int]:
    """Support each idea as a script would; the votes left after each."""
    lefts = []
    for idea in ideas:
        answer = client.submit(f"/ideas/{idea.id}/vote", headers=JSON)
        assert answer.status_code == 200, answer.text
        lefts.append(answer.json()["votes_left"])
    return lefts


def as_user(client: WebClient, user: User) -> WebClient:
    client.cookies.clear()
    return client.login_as(user)


def test_ten_supports_one_hidden_another_given_then_restored_keeps_ten(client: WebClient, session: Session) -> None:
    """The instance as reported: 10 supports, a moderator hides one of the ideas, the citizen
    supports another, the moderator restores it."""
    call = make_call(session, phase="voting", votes_per_citizen=10)
    ideas = [make_idea(session, call, title=f"Idée soutenue {n}") for n in range(11)]
    returning, newer = ideas[0], ideas[10]
    alice = make_user(session, display_name="Alice")
    bruno = make_user(session, display_name="Bruno")  # supports the hidden idea too, with room to spare
    moderator = make_user(session, role=Role.moderator)
    session.commit()

    as_user(client, alice)
    assert support_all(client, ideas[:10])[-1] == 0
    as_user(client, bruno)
    support_all(client, [returning])

    as_user(client, moderator)
    assert client.submit(f"/moderation/ideas/{returning.id}/hide", {"reason": "Propos à vérifier"}).status_code == 303
    as_user(client, alice)
    # The hidden idea's support no longer counts: one place is free, and she uses it.
    answer = client.submit(f"/ideas/{newer.id}/vote", headers=JSON)
    assert answer.status_code == 200 and answer.json()["votes_left"] == 0

    as_user(client, moderator)
    restored = client.submit(f"/moderation/ideas/{returning.id}/restore", {"reason": "Rien à redire"})
    assert restored.status_code == 303

    # Never 11: what she holds now stays; the support coming back found no free place.
    assert held(session, alice, call) == 10
    assert supports(session, alice, newer) and not supports(session, alice, returning)
    # Bruno had room: his support counts again, untouched.
    assert supports(session, bruno, returning) and held(session, bruno, call) == 1
    assert counter_matches_rows(session, *ideas)
    assert vote_service.vote_count(session, returning.id or 0) == 1

    # She is told, on the site and by e-mail, and nobody else is.
    [notice] = set_aside_notices(session, alice)
    assert notice.idea_id == returning.id and notice.link == f"/ideas/{returning.id}#vote"
    assert set_aside_notices(session, bruno) == []
    [mail] = [m for m in emails_to(session, alice.email) if "mis de côté" in m["subject"]]
    assert "Idée soutenue 0" in mail["subject"]
    assert "retirez un de vos autres soutiens" in mail["body"]
    assert f"http://testserver/ideas/{returning.id}#vote" in mail["body"]

    # The system's decision is in the audit log, linked to the moderator's restore.
    [entry] = system_entries(session, returning)
    assert entry.actor_id is None and entry.reason == REASON_OVER_LIMIT
    assert entry.details["supports"] == 1 and entry.details["limit"] == 10
    restore = session.exec(select(AuditEntry).where(AuditEntry.action == "restore",
                                                    AuditEntry.target_id == returning.id)).one()
    assert entry.details["decision_entry"] == restore.id
    log = client.get(f"/moderation/ideas/{returning.id}").text
    assert "Soutiens mis de côté" in log and "Système" in log

    # What she reads, and the panel's numbers, are right; she can choose again.
    as_user(client, alice)
    page = client.get("/notifications").text
    assert "Votre soutien à «\u202fIdée soutenue 0\u202f» a été mis de côté." in page
    detail = client.get(f"/ideas/{returning.id}").text
    assert "Il vous reste 0 soutien dans cet appel." in detail
    assert client.submit(f"/ideas/{returning.id}/vote", headers=JSON).status_code == 409
    answer = client.submit(f"/ideas/{ideas[5].id}/vote/withdraw", headers=JSON)
    assert answer.json()["votes_left"] == 1
    answer = client.submit(f"/ideas/{returning.id}/vote", headers=JSON)
    assert answer.status_code == 200 and answer.json()["votes_left"] == 0
    assert held(session, alice, call) == 10


def test_an_idea_hidden_by_reports_and_restored_sets_aside_what_no_longer_fits(client: WebClient,
                                                                               session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3, report_threshold=3)
    ideas = [make_idea(session, call) for _ in range(4)]
    returning = ideas[0]
    alice = make_user(session)
    reporters = [make_user(session) for _ in range(3)]
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, ideas[:3])

    for reporter in reporters:
        as_user(client, reporter)
        assert client.submit(f"/ideas/{returning.id}/report", {"reason": "spam"}).status_code == 303
    session.expire_all()
    hidden = session.get(Idea, returning.id)
    assert hidden is not None and hidden.hidden_at is not None

    as_user(client, alice)
    assert support_all(client, [ideas[3]]) == [0]
    as_user(client, moderator)
    assert client.submit(f"/moderation/ideas/{returning.id}/restore").status_code == 303

    assert held(session, alice, call) == 3
    assert not supports(session, alice, returning) and supports(session, alice, ideas[3])
    assert [n.idea_id for n in set_aside_notices(session, alice)] == [returning.id]
    assert len(system_entries(session, returning)) == 1
    assert counter_matches_rows(session, *ideas)


def test_supports_that_fit_come_back_untouched(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    ideas = [make_idea(session, call) for _ in range(3)]
    alice = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, ideas[:2])
    as_user(client, moderator)
    client.submit(f"/moderation/ideas/{ideas[0].id}/hide", {"reason": "Vérification"})
    as_user(client, alice)
    support_all(client, [ideas[2]])  # 2 of 3 counted: room for the one coming back
    as_user(client, moderator)
    client.submit(f"/moderation/ideas/{ideas[0].id}/restore")

    assert held(session, alice, call) == 3 and supports(session, alice, ideas[0])
    assert set_aside_notices(session, alice) == [] and system_entries(session, ideas[0]) == []


def test_an_idea_moved_to_another_theme_takes_its_supports_under_that_theme_s_limit(client: WebClient,
                                                                                   session: Session) -> None:
    call = make_call(session, phase="submissions", voting_during_submissions=True, votes_per_citizen=2,
                     vote_scope="category")
    parks, streets = make_category(session, call, name="Parcs"), make_category(session, call, name="Rues")
    author = make_user(session)
    moving = make_idea(session, call, author, title="Des arbres rue Neuve", category=parks)
    in_streets = [make_idea(session, call, category=streets) for _ in range(2)]
    alice = make_user(session)  # streets full: no room for the idea moving in
    bruno = make_user(session)  # streets empty: his support follows the idea
    session.commit()
    as_user(client, alice)
    support_all(client, [moving, *in_streets])
    as_user(client, bruno)
    support_all(client, [moving])
    assert held(session, alice, call, parks.id) == 1 and held(session, alice, call, streets.id) == 2

    as_user(client, author)
    edited = client.submit(f"/ideas/{moving.id}/edit", {
        "title": "Des arbres rue Neuve", "body_md": "Planter des arbres le long de la rue Neuve, côté sud.",
        "category_id": str(streets.id), "action": "save"})
    assert edited.status_code == 303, edited.text

    # Per theme as the idea is now: never 3 in "Rues"; the support moving in was set aside.
    assert held(session, alice, call, streets.id) == 2 and held(session, alice, call, parks.id) == 0
    assert not supports(session, alice, moving)
    assert supports(session, bruno, moving)
    assert held(session, bruno, call, streets.id) == 1 and held(session, bruno, call, parks.id) == 0
    [notice] = set_aside_notices(session, alice)
    assert notice.idea_id == moving.id
    assert len(system_entries(session, moving)) == 1
    assert counter_matches_rows(session, moving, *in_streets)
    session.expire_all()
    assert {v.category_id for v in session.exec(select(Vote).where(Vote.idea_id == moving.id))} == {streets.id}

    # The panels count by the ideas' themes now: two places free in "Parcs", none in "Rues".
    as_user(client, alice)
    assert "Il vous reste 0 soutien dans ce thème." in client.get(f"/ideas/{moving.id}").text
    assert "a changé de thème" in client.get("/notifications").text
    parks_idea = make_idea(session, call, category=parks)
    session.commit()
    assert "Il vous reste 2 soutiens dans ce thème." in client.get(f"/ideas/{parks_idea.id}").text


def test_a_removed_theme_joins_the_ideas_without_a_theme_within_the_limit(client: WebClient,
                                                                         session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=1, vote_scope="category")
    theme = make_category(session, call)
    themed, unthemed = make_idea(session, call, category=theme), make_idea(session, call)
    alice = make_user(session)
    admin = make_user(session, role=Role.admin)
    session.commit()
    as_user(client, alice)
    support_all(client, [unthemed, themed])  # one per theme: both fit

    as_user(client, admin)
    assert client.submit(f"/admin/calls/{call.id}/categories/{theme.id}", {"delete": "1"}).status_code == 303

    assert held(session, alice, call, None) == 1
    assert supports(session, alice, unthemed) and not supports(session, alice, themed)
    assert [n.idea_id for n in set_aside_notices(session, alice)] == [themed.id]
    assert counter_matches_rows(session, themed, unthemed)


def test_an_idea_published_again_after_changes_keeps_its_supporters_within_the_limit(client: WebClient,
                                                                                   session: Session) -> None:
    call = make_call(session, phase="submissions", voting_during_submissions=True, votes_per_citizen=1)
    author = make_user(session)
    first, second = make_idea(session, call, author), make_idea(session, call)
    alice = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, [first])
    as_user(client, moderator)
    asked = client.submit(f"/moderation/ideas/{first.id}/request-changes", {"message": "Précisez le lieu."})
    assert asked.status_code == 303
    as_user(client, alice)
    support_all(client, [second])  # the first no longer counts: its place is free

    as_user(client, author)
    assert client.submit(f"/ideas/{first.id}/submit").status_code == 303  # published again at once
    session.expire_all()
    assert session.get(Idea, first.id).status == "published"  # type: ignore[union-attr]

    assert held(session, alice, call) == 1 and supports(session, alice, second)
    assert [n.idea_id for n in set_aside_notices(session, alice)] == [first.id]
    assert counter_matches_rows(session, first, second)


def test_an_idea_held_after_an_edit_and_approved_keeps_its_supporters_within_the_limit(
        client: WebClient, session: Session) -> None:
    call = make_call(session, phase="submissions", voting_during_submissions=True, votes_per_citizen=1)
    newcomer = make_user(session)  # a new account: an edit adding a link is held for review
    first, second = make_idea(session, call, newcomer), make_idea(session, call)
    alice = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, [first])
    as_user(client, newcomer)
    edited = client.submit(f"/ideas/{first.id}/edit", {
        "title": first.title, "body_md": "Tous les détails sur https://exemple.example.com/projet", "action": "save"})
    assert edited.status_code == 303
    session.expire_all()
    assert session.get(Idea, first.id).status == "submitted"  # type: ignore[union-attr]
    as_user(client, alice)
    support_all(client, [second])  # the first no longer counts: its place is free

    as_user(client, moderator)
    assert client.submit("/moderation/bulk-approve", {"idea_ids": [str(first.id)]}).status_code == 303
    session.expire_all()
    assert session.get(Idea, first.id).status == "published"  # type: ignore[union-attr]
    assert held(session, alice, call) == 1 and supports(session, alice, second)
    assert [n.idea_id for n in set_aside_notices(session, alice)] == [first.id]
    assert counter_matches_rows(session, first, second)


def test_a_merged_duplicate_brings_its_supports_within_the_limit(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=2)
    duplicate, target, other = (make_idea(session, call) for _ in range(3))
    alice = make_user(session)  # supported the duplicate, then used the place it left
    bruno = make_user(session)  # supported the duplicate only: his support moves to the target
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, [duplicate, other])
    as_user(client, bruno)
    support_all(client, [duplicate])
    as_user(client, moderator)
    client.submit(f"/moderation/ideas/{duplicate.id}/hide", {"reason": "Doublon probable"})
    as_user(client, alice)
    support_all(client, [target])

    as_user(client, moderator)
    merged = client.submit(f"/moderation/ideas/{duplicate.id}/merge", {"target_id": str(target.id)})
    assert merged.status_code == 303, merged.text

    assert held(session, alice, call) == 2
    assert held(session, bruno, call) == 1 and supports(session, bruno, target)
    assert set_aside_notices(session, alice) == []  # she already supported the target: one support kept
    assert counter_matches_rows(session, duplicate, target, other)
    assert vote_service.vote_count(session, target.id or 0) == 2


def test_a_merge_sets_aside_a_moved_support_that_does_not_fit(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=2)
    duplicate, target, others = make_idea(session, call), make_idea(session, call), \
        [make_idea(session, call) for _ in range(2)]
    alice = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    as_user(client, alice)
    support_all(client, [duplicate, others[0]])
    as_user(client, moderator)
    client.submit(f"/moderation/ideas/{duplicate.id}/hide", {"reason": "Doublon probable"})
    as_user(client, alice)
    support_all(client, [others[1]])

    as_user(client, moderator)
    merged = client.submit(f"/moderation/ideas/{duplicate.id}/merge", {"target_id": str(target.id)})
    assert merged.status_code == 303, merged.text

    assert held(session, alice, call) == 2 and not supports(session, alice, target)
    assert [n.idea_id for n in set_aside_notices(session, alice)] == [target.id]
    assert len(system_entries(session, target)) == 1
    assert counter_matches_rows(session, duplicate, target, *others)


def test_an_administrator_cannot_tighten_the_rules_below_what_people_hold(client: WebClient,
                                                                         session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3, vote_scope="category")
    themes = [make_category(session, call) for _ in range(2)]
    ideas = [make_idea(session, call, category=themes[n % 2]) for n in range(4)]
    alice = make_user(session)
    admin = make_user(session, role=Role.admin)
    session.commit()
    as_user(client, alice)
    support_all(client, ideas)  # 2 in each theme
    as_user(client, admin)
    form = client.get(f"/admin/calls/{call.id}").text
    assert "votes_per_citizen" in form

    def save(**changes: str) -> int:
        session.expire_all()
        fresh = session.get(Call, call.id)
        assert fresh is not None
        fields = {"slug": fresh.slug, "title": fresh.title, "votes_per_citizen": str(fresh.votes_per_citizen),
                  "vote_scope": fresh.vote_scope, "ideas_per_citizen": "5", "report_threshold": "3"}
        for name in ("submissions_start", "voting_start", "review_start", "results_start", "closes_at"):
            value = getattr(fresh, name)
            fields[name] = value.strftime("%Y-%m-%dT%H:%M") if value else ""
        return client.submit(f"/admin/calls/{call.id}", {**fields, **changes}).status_code

    # Counted per call, she would hold 4 of 3; a limit of 1 per theme is below her 2.
    assert save(vote_scope="call") == 422
    assert save(votes_per_citizen="1") == 422
    session.expire_all()
    kept = session.get(Call, call.id)
    assert kept is not None and (kept.vote_scope, kept.votes_per_citizen) == ("category", 3)
    # Relaxing is always possible, and a limit no one is above too.
    assert save(votes_per_citizen="2") == 303
    assert save(vote_scope="call", votes_per_citizen="4") == 303
    assert held(session, alice, call) == 4
