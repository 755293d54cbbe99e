"""The call page: its rules said at the top, the supports left for a signed-in citizen, and
supporting or withdrawing from the cards without JavaScript (a form that comes back to the
list at the card), a fourth support in a theme refused with the rule's message."""

from datetime import timedelta

from sqlmodel import Session

from app.call.models import Call, VoteScope
from app.clock import utcnow
from app.idea.models import Idea
from app.vote import service as vote_service
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient


def theme_call(session: Session) -> tuple[Call, list[int], int]:
    """A voting call, 3 supports per theme, four ideas in one theme and one in another."""
    call = make_call(session, slug="velo", phase="voting", vote_scope=VoteScope.category, votes_per_citizen=3,
                     premoderation=True, ideas_per_citizen=2,
                     review_start=utcnow() + timedelta(days=5, hours=1))
    mobility = make_category(session, call, name="Mobilité")
    other = make_category(session, call, name="Verdure")
    ids = [make_idea(session, call, title=f"Idée mobilité {n}", category=mobility).id or 0 for n in range(4)]
    make_idea(session, call, title="Idée verdure", category=other)
    session.commit()
    return call, ids, mobility.id or 0


def card(html: str, idea_id: int) -> str:
    start = html.index(f'id="card-{idea_id}"')
    return html[start:html.index("</li>", start)]


def test_rules_block_says_the_rules_plainly(client: WebClient, session: Session) -> None:
    theme_call(session)
    html = client.get("/calls/velo").text
    rules = html[html.index('id="rules-title"'):html.index("</section>", html.index('id="rules-title"'))]
    assert "Les règles de cet appel" in rules
    assert "Vote" in rules and "5 jours pour voter" in rules
    assert "Chaque personne peut proposer jusqu’à 2 idées." in rules
    assert "Chaque personne peut soutenir jusqu’à 3 idées par thème." in rules
    assert "Une personne de la modération relit chaque idée avant sa publication." in rules
    # The rules come before the ideas, and a visitor is asked to log in to support.
    assert html.index('id="rules-title"') < html.index('id="ideas-title"')
    assert "Se connecter pour soutenir des idées" in rules
    assert 'action="/ideas/' not in html  # no support form for a visitor


def test_supports_left_per_theme_for_a_citizen(client: WebClient, session: Session) -> None:
    call, ids, mobility_id = theme_call(session)
    voter = make_user(session)
    vote_service.cast_vote(session, idea=session.get(Idea, ids[0]), call=call, user=voter)
    session.commit()
    client.login_as(voter)
    html = client.get("/calls/velo").text
    assert f'data-left-bucket="{mobility_id}">Il vous reste 2 soutiens dans ce thème.' in html
    assert "Il vous reste 3 soutiens dans ce thème." in html  # the other theme, untouched
    first = card(html, ids[0])
    assert "Vous la soutenez" in first and "Retirer mon soutien" in first
    assert "Il vous reste 2 soutiens dans ce thème." in card(html, ids[1])



def votes_of(session: Session, idea_id: int) -> int:
    session.expire_all()
    return vote_service.vote_count(session, idea_id)


def test_support_and_withdraw_from_the_cards_without_javascript(client: WebClient, session: Session) -> None:
    _call, ids, _ = theme_call(session)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    listing = "/calls/velo?category=&sort=newest"
    html = client.get(listing).text
    # Each card's form posts to the vote route with the CSRF token and the way back to it.
    form = card(html, ids[0])
    assert f'action="/ideas/{ids[0]}/vote"' in form and 'name="csrf_token"' in form
    assert f'name="next" value="/calls/velo?category=&amp;sort=newest#card-{ids[0]}"' in form

    for idea_id in ids[:3]:
        answer = client.submit(f"/ideas/{idea_id}/vote", {"next": f"{listing}#card-{idea_id}"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{listing}#card-{idea_id}"
        assert votes_of(session, idea_id) == 1
    page = client.get(answer.headers["location"]).text
    assert "Vous soutenez cette idée" in page
    assert "1 soutien" in card(page, ids[2]) and "Il vous reste 0 soutien dans ce thème." in card(page, ids[3])

    # A fourth in the same theme: refused, back on the list with the rule's message.
    refused = client.submit(f"/ideas/{ids[3]}/vote", {"next": f"{listing}#card-{ids[3]}"})
    assert refused.status_code == 303 and refused.headers["location"] == f"{listing}#card-{ids[3]}"
    assert votes_of(session, ids[3]) == 0
    page = client.get(refused.headers["location"]).text
    # ... on the card itself, where the visitor lands, not only at the top of a long page.
    assert "Vous avez utilisé tous vos soutiens pour ce thème (3). Retirez-en un pour soutenir cette idée." in card(
        page, ids[3])
    assert "Retirez-en un" not in card(page, ids[2])

    # Withdrawing from the card comes back to it, the count goes down and a place is free.
    withdrawn = client.submit(f"/ideas/{ids[1]}/vote/withdraw", {"next": f"{listing}#card-{ids[1]}"})
    assert withdrawn.status_code == 303 and withdrawn.headers["location"] == f"{listing}#card-{ids[1]}"
    assert votes_of(session, ids[1]) == 0
    page = client.get(listing).text
    assert "Votre soutien est retiré." in page
    assert "Votre soutien est retiré." in card(page, ids[1])
    assert "Il vous reste 1 soutien dans ce thème." in card(page, ids[1])
    assert f'action="/ideas/{ids[1]}/vote"' in card(page, ids[1])


def test_next_elsewhere_is_ignored_and_csrf_is_required(client: WebClient, session: Session) -> None:
    _call, ids, _ = theme_call(session)
    make_call(session, slug="autre", phase="voting")
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    for target in ("https://evil.example/", "//evil.example/calls/velo", "/calls/autre", "/calls/velo-bis"):
        answer = client.submit(f"/ideas/{ids[0]}/vote", {"next": target})
        assert answer.headers["location"] == f"/ideas/{ids[0]}#vote", target
        client.submit(f"/ideas/{ids[0]}/vote/withdraw")
    # Without the CSRF token nothing is counted.
    forged = client.post(f"/ideas/{ids[0]}/vote", data={"next": "/calls/velo"}, follow_redirects=False)
    assert forged.status_code == 403
    assert votes_of(session, ids[0]) == 0


def test_scripts_get_the_new_count_and_sentence(client: WebClient, session: Session) -> None:
    _call, ids, _ = theme_call(session)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    headers = {"Accept": "application/json", "X-Requested-With": "fetch"}
    for idea_id in ids[:3]:
        data = client.submit(f"/ideas/{idea_id}/vote", {"next": "/calls/velo"}, headers=headers).json()
    assert data["count_text"] == "1 soutien" and data["left_text"] == "Il vous reste 0 soutien dans ce thème."
    refused = client.submit(f"/ideas/{ids[3]}/vote", {"next": "/calls/velo"}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"].startswith("Vous avez utilisé tous vos soutiens pour ce thème (3).")
