"""A logged-in list's cards are kept per process by what each card shows of its viewer (issue
14: app.call.cards.SharedCards.card_list), never by who the viewer is: each viewer gets exactly
their own supports, supports left, forms and CSRF token, whoever's page was kept before theirs,
and every write shows on the next logged-in view."""

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from app import clock
from app.account.models import Role
from app.call import cards
from app.call.models import Call
from app.idea.models import Idea
from app.residents.models import ResidentVerification, VerificationRule
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def _card(page: str, idea_id: int | None) -> str:
    found = re.search(rf'<li class="idea-card" id="card-{idea_id}">(.*?)</li>', page, re.DOTALL)
    return found.group(1) if found else ""


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))


def _left(card: str) -> str:
    found = re.search(r'class="card-left"[^>]*>([^<]+)<', card)
    return found.group(1) if found else ""


def test_each_viewer_gets_their_own_cards_from_a_kept_list_and_writes_show_at_once(
        client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    x, y = make_idea(session, call, title="Des bancs place du Marché"), make_idea(session, call, title="Une fontaine")
    supporter = make_user(session, display_name="Amandine Lejeune")
    other = make_user(session, display_name="Jules Piron")
    moderator = make_user(session, role=Role.moderator, display_name="Modeste Modérateur")
    unconfirmed = make_user(session, verified=False, display_name="Nina Nouvelle")
    session.commit()
    path = f"/calls/{call.slug}"
    browsers = {}
    for person in (supporter, other, moderator, unconfirmed):
        browsers[person.display_name] = WebClient(client.app, base_url="http://testserver")
        browsers[person.display_name].login_as(person)
    assert browsers["Amandine Lejeune"].submit(f"/ideas/{x.id}/vote").status_code == 303
    browsers["Amandine Lejeune"].get(path)  # the vote's message, shown once

    def seen(name: str) -> str:
        web = browsers[name]
        page = web.get(path).text
        assert page.count("card-vote-") == 0 or _tokens(page) == {web.csrf()}  # their token, only theirs
        for someone in browsers:
            assert (someone in page) is (someone == name)  # their name, no one else's
        return page

    for _round in range(2):  # the second round's pages made from the lists the first one kept
        page = seen("Amandine Lejeune")
        assert '<p class="card-voted" data-card-voted>' in _card(page, x.id)
        assert ">Retirer mon soutien</button>" in _card(page, x.id) and "2" in _left(_card(page, y.id))
        assert "data-card-voted hidden" in _card(page, y.id)
        for name in ("Jules Piron", "Modeste Modérateur"):  # the same state: one kept list, their own token
            page = seen(name)
            assert "data-card-voted hidden" in _card(page, x.id) and ">Retirer mon soutien</button>" not in page
            assert "3" in _left(_card(page, x.id)) and f'id="card-vote-{y.id}"' in page
        page = seen("Nina Nouvelle")  # e-mail not confirmed: no form at all
        assert "card-vote-" not in page and "csrf_token\" value" not in _card(page, x.id)
    lists = [html for html in cards.kept_html() if html.startswith('<ul class="idea-cards">')]
    assert lists and all(_tokens(html) <= {str(cards.CSRF_SLOT)} for html in lists)
    assert not any(name in html for html in lists for name in browsers)

    # A support by the other citizen: their card and count change, the supporter's do not.
    assert browsers["Jules Piron"].submit(f"/ideas/{y.id}/vote").status_code == 303
    browsers["Jules Piron"].get(path)
    page = seen("Jules Piron")
    assert '<p class="card-voted" data-card-voted>' in _card(page, y.id) and "2" in _left(_card(page, x.id))
    assert re.search(r"data-card-count>1 ", _card(seen("Modeste Modérateur"), y.id))
    assert "data-card-voted hidden" in _card(seen("Amandine Lejeune"), y.id)

    # A moderator hides the idea: gone from every list at the next view; the supports left follow.
    with client.db.transaction() as writing:
        hidden = writing.get(Idea, y.id)
        assert hidden is not None
        hidden.hidden_at = clock.utcnow()
    for name in browsers:
        assert _card(seen(name), y.id) == ""
    assert "3" in _left(_card(seen("Jules Piron"), x.id))  # a support on a hidden idea no longer counts

    # The phase changes: supports close, every form goes, each one's "You support it" stays.
    with client.db.transaction() as writing:
        changed = writing.get(Call, call.id)
        assert changed is not None
        changed.phase_override = "review"
    for name in browsers:
        page = seen(name)
        assert "card-vote-" not in page
        assert ('<p class="card-voted" data-card-voted>' in _card(page, x.id)) is (name == "Amandine Lejeune")


def test_a_residents_only_call_shows_forms_to_verified_residents_only(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", vote_access="residents")
    idea = make_idea(session, call)
    resident = make_user(session, display_name="Rita Résidente")
    outsider = make_user(session, display_name="Omar Horsville")
    session.commit()
    rule = VerificationRule(provider_key="test", postal_codes="4000")
    session.add(rule)
    session.flush()
    assert rule.id is not None and resident.id is not None
    session.add(ResidentVerification(user_id=resident.id, rule_id=rule.id, resident_hash="a" * 64, holder="test",
                                     verified_at=clock.utcnow() - timedelta(days=1)))
    session.commit()
    path = f"/calls/{call.slug}"
    neighbour = WebClient(client.app, base_url="http://testserver")
    client.login_as(resident)
    neighbour.login_as(outsider)
    for _round in range(2):
        mine = client.get(path).text
        assert f'id="card-vote-{idea.id}"' in mine and _tokens(mine) == {client.csrf()}
        theirs = neighbour.get(path).text
        assert "card-vote-" not in theirs and "Rita" not in theirs and "Omar" in theirs


def test_an_idea_written_as_the_token_slot_never_receives_a_token(client: WebClient, session: Session) -> None:
    # What an author writes is escaped before the slot is filled: text that spells CSRF_SLOT (a
    # NUL is refused in requests, but an import or an old row may hold one) stays text, and no
    # token lands in an attribute an author chose (the photo's text, the title's link).
    if client.db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's text holds no NUL at all")
    slot = str(cards.CSRF_SLOT)
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title=f"Titre {slot} fin", body=f"Corps {slot} fin <img src=x alt='{slot}'>")
    make_idea(session, call)
    viewer = make_user(session)
    session.commit()
    client.login_as(viewer)
    token = client.csrf()
    for _round in range(2):
        page = client.get(f"/calls/{call.slug}").text
        card = _card(page, idea.id)
        assert f'id="card-vote-{idea.id}"' in card and card.count(token) == 1  # in its own form only
        assert page.count(token) == len(re.findall(r'name="csrf_token" value="', page))
        assert "Titre &lt;" in card and slot not in page
