"""The home page: key figures from a seeded scenario, open calls with their time left, the
city's latest answers, and a signed-in person's supports left, ideas and activity."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from app.call.models import Call, VoteScope
from app.clock import utcnow
from app.notify.models import Notification
from app.pages import home
from app.vote import service as vote_service
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient, counting, recording, sqlite_plan


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1).replace("\u202f", " ").replace("\xa0", " ").strip()


def seed(session: Session) -> dict[str, object]:
    """A voting call, 3 supports per theme, two themes; three public ideas (two answered after
    4 and 2 days), a draft; Anne proposed two and supports one of Bob's, Vic supports two."""
    now = utcnow()
    call = make_call(session, title="Liège à vélo", phase="voting", vote_scope=VoteScope.category,
                     votes_per_citizen=3, review_start=now + timedelta(days=3, hours=2))
    mobility = make_category(session, call, name="Mobilité")
    greenery = make_category(session, call, name="Verdure")
    anne = make_user(session, display_name="Anne")
    bob = make_user(session, display_name="Bob")
    vic = make_user(session, display_name="Vic")
    bike = make_idea(session, call, anne, title="Des arceaux vélo", category=mobility,
                     published_at=now - timedelta(days=10), answer_status="accepted",
                     answered_at=now - timedelta(days=6))
    bus = make_idea(session, call, bob, title="Un bus de nuit", category=mobility,
                    published_at=now - timedelta(days=10), answer_status="under_study",
                    answered_at=now - timedelta(days=8))
    trees = make_idea(session, call, anne, title="Des arbres rue Féronstrée", category=greenery)
    make_idea(session, call, anne, title="Mon brouillon secret", status="draft")
    for voter, idea in ((anne, bus), (vic, bike), (vic, trees)):
        vote_service.cast_vote(session, idea=idea, call=call, user=voter)
    session.add(Notification(user_id=anne.id or 0, kind="comment", idea_id=bike.id, actor_id=bob.id,
                             actor_name="Bob", link=f"/ideas/{bike.id}#comments"))
    session.commit()
    return {"call": call, "anne": anne}


def test_key_figures_calls_and_answers_for_a_visitor(client: WebClient, session: Session) -> None:
    seed(session)
    html = client.get("/").text
    assert figure(html, "ideas") == "3"  # the draft is nobody's business
    assert figure(html, "participants") == "3"  # Anne, Bob (authors) and Vic (voter), once each
    assert figure(html, "supports") == "3"
    assert figure(html, "answered") == "67 %"  # 2 of 3
    assert figure(html, "median") == "3 jours"  # answers after 4 and 2 days
    # The open call says its phase and the time left, pluralised in French.
    assert "Liège à vélo" in html and "3 jours pour voter" in html
    # The city's latest answers, newest first, with their status.
    answers = html[html.index("Dernières réponses de la Ville"):]
    assert answers.index("Des arceaux vélo") < answers.index("Un bus de nuit")
    assert "Acceptée" in answers or "Accepté" in answers
    assert "Comment ça marche" in html
    # Nothing personal for a visitor, and no draft anywhere.
    assert "Pour vous" not in html and "Mon brouillon secret" not in html


def test_a_median_of_one_day_is_said_in_the_singular(client: WebClient, session: Session) -> None:
    # Every "{days} days" took no plural form: "1 jours".
    now = utcnow()
    call = make_call(session, phase="voting")
    make_idea(session, call, make_user(session), published_at=now - timedelta(days=5), answer_status="accepted",
              answered_at=now - timedelta(days=4))
    session.commit()
    assert figure(client.get("/").text, "median") == "1 jour"


def test_signed_in_supports_left_ideas_and_activity(client: WebClient, session: Session) -> None:
    anne = seed(session)["anne"]
    client.login_as(anne)  # type: ignore[arg-type]
    html = client.get("/").text
    mine = html[html.index('id="mine-title"'):html.index('id="open-calls-title"')]
    # Supports left per theme of the open call: one given in Mobilité.
    assert "Mobilité\u202f: 2 soutiens restants" in mine
    assert "Verdure\u202f: 3 soutiens restants" in mine
    # Her ideas, with their status, her draft included (only she sees it).
    assert "Des arbres rue Féronstrée" in mine and "Mon brouillon secret" in mine
    assert "Brouillon" in mine
    # Activity on what she follows: Bob's comment on her idea.
    activity = mine[mine.index('id="my-activity-title"'):]
    assert "Bob" in activity and "Des arceaux vélo" in activity


def test_time_left_in_every_language(client: WebClient, session: Session) -> None:
    now = utcnow()
    make_call(session, title="Budget", phase="voting", review_start=now + timedelta(days=1, hours=3))
    session.commit()
    expected = {"fr": "27 heures pour voter", "en": "27 hours left to vote", "nl": "Nog 27 uur om te stemmen",
                "de": "Noch 27 Stunden zum Abstimmen"}
    for lang, text in expected.items():
        html = client.get("/", headers={"Accept-Language": lang}).text
        assert text in html, lang



def test_pages_run_as_many_queries_for_many_items_as_for_few(client: WebClient, session: Session) -> None:
    """No query per call, idea, answer or notification: more of each costs no more statements."""
    anne = seed(session)["anne"]
    client.login_as(anne)  # type: ignore[arg-type]
    client.get("/"), client.get("/calls/" + session.exec(select(Call.slug)).first())  # warm caches
    with counting(client.db.engine) as few_home:
        client.get("/")
    slug = session.exec(select(Call.slug)).first()
    with counting(client.db.engine) as few_call:
        client.get(f"/calls/{slug}")
    now = utcnow()
    for n in range(6):
        call = make_call(session, phase="voting", vote_scope=VoteScope.category, votes_per_citizen=3)
        theme = make_category(session, call)
        for m in range(4):
            idea = make_idea(session, call, anne, title=f"Idée {n}-{m}", category=theme,
                             answer_status="accepted", answered_at=now)
            if m < 3:
                vote_service.cast_vote(session, idea=idea, call=call, user=anne)  # type: ignore[arg-type]
            session.add(Notification(user_id=anne.id or 0, kind="comment", idea_id=idea.id, actor_id=anne.id,
                                     link=f"/ideas/{idea.id}"))
    session.commit()
    client.get("/"), client.get(f"/calls/{slug}")  # what pages keep while nothing is written, read again once
    with counting(client.db.engine) as many_home:
        client.get("/")
    with counting(client.db.engine) as many_call:
        client.get(f"/calls/{slug}")
    assert len(many_home) == len(few_home), "\n".join(s[:90] for s in set(many_home) ^ set(few_home))
    assert len(many_call) == len(few_call), many_call


def test_latest_answers_are_read_from_the_answered_ideas_alone(client: WebClient, session: Session) -> None:
    # Among 60 unanswered ideas, the newest answers of public ideas, a hidden one left out. The
    # statement reads the answered ideas through their own index (migration 0043): it read every
    # idea of the platform before, 254 ms at a million ideas on PostgreSQL.
    now = utcnow()
    call = make_call(session, phase="voting")
    for n in range(60):
        make_idea(session, call, title=f"Sans réponse {n}")
    for n, days in enumerate((9, 3, 5)):
        make_idea(session, call, title=f"Répondue {n}", answer_status="accepted",
                  answered_at=now - timedelta(days=days))
    make_idea(session, call, title="Cachée", answer_status="rejected", answered_at=now, hidden_at=now)
    session.commit()
    with client.db.autocommit_session() as s:
        with recording(s.get_bind()) as seen:  # type: ignore[arg-type]
            answers = home.recent_answers(s, None, limit=2)
        assert [idea.title for idea, _call in answers] == ["Répondue 1", "Répondue 2"]
        if client.db.is_sqlite:
            plan = sqlite_plan(s, *seen[0])
            assert "SEARCH idea USING INDEX ix_idea_recent_answers" in plan, plan
