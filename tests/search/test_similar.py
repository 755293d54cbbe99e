"""Similar ideas while an idea is written, and possible duplicates for moderators: the backend
of the database under test (FTS5 on SQLite, full text on PostgreSQL), the fragment the idea
form's script asks for, the no-JavaScript button, and the moderation page of a pending idea."""

import re

import pytest
from sqlmodel import Session, select

from app.account.models import Role
from app.idea.models import Idea
from app.search import indexing
from app.search.engines import backend_for
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    """Pages in English (French is the default language); the cookie keeps the choice."""
    assert client.get("/?lang=en").status_code == 200


def _index(session: Session) -> None:
    indexing.rebuild(session)
    session.commit()


def _titles(html: str) -> list[str]:
    return re.findall(r'<li class="similar-idea">\s*<a href="/(?:moderation/)?ideas/\d+">(.*?)</a>', html)


def test_a_new_title_proposes_the_existing_idea_first(client: WebClient, session: Session) -> None:
    """The instance of issue 12, through the backend and through the endpoint."""
    call = make_call(session)
    make_idea(session, call, title="Plus de bancs au parc d'Avroy", vote_count=40)
    wanted = make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold", vote_count=3)
    make_idea(session, call, title="Une rue piétonne dans le Carré", vote_count=12)
    make_idea(session, call, title="Plus de poubelles", body="Des poubelles dans chaque rue.")
    _index(session)
    assert call.id is not None
    found = backend_for(session).similar(session, call.id, "Plus de pistes cyclables rue Léopold")
    assert found[0].id == wanted.id
    fragment = client.get(f"/calls/{call.slug}/similar", params={"title": "Plus de pistes cyclables rue Léopold"})
    assert fragment.status_code == 200
    assert _titles(fragment.text)[0] == "Pistes cyclables sécurisées rue Léopold"
    assert len(_titles(fragment.text)) <= 5
    first = fragment.text.split('<li class="similar-idea">')[1]
    assert "Awaiting an answer" in first and "3 supports" in first
    assert f'href="/ideas/{wanted.id}#vote">Support this one instead</a>' in first
    assert 'id="vote"' in client.get(f"/ideas/{wanted.id}").text  # the anchor the link leads to


def test_only_public_ideas_of_the_same_call_are_proposed(client: WebClient, session: Session) -> None:
    call = make_call(session)
    other = make_call(session)
    public = make_idea(session, call, title="Fontaine publique place du Marché")
    for status in ("draft", "submitted", "rejected", "withdrawn", "changes_requested"):
        make_idea(session, call, title=f"Fontaine {status} place du Marché", status=status)
    hidden = make_idea(session, call, title="Fontaine cachée place du Marché")
    make_idea(session, other, title="Fontaine ailleurs place du Marché")
    _index(session)
    hidden.hidden_at = hidden.published_at  # hidden after it was indexed: the index is stale
    session.add(hidden)
    session.commit()
    titles = _titles(client.get(f"/calls/{call.slug}/similar", params={"title": "Fontaine place du Marché"}).text)
    assert titles == [public.title]
    assert call.id is not None
    assert [i.id for i in backend_for(session).similar(session, call.id, "fontaine marche", exclude_id=public.id)] == []


def test_an_xss_title_is_inert_in_the_fragment(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_idea(session, call, title='<script>alert(1)</script> Kiosque <img src=x onerror=alert(2)>')
    _index(session)
    fragment = client.get(f"/calls/{call.slug}/similar", params={"title": '<b onmouseover="x">Kiosque</b>'})
    assert fragment.status_code == 200
    assert "<script>" not in fragment.text and "<img" not in fragment.text and "<b " not in fragment.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Kiosque &lt;img src=x onerror=alert(2)&gt;" in fragment.text


@pytest.mark.parametrize("title", ["", "  ", "pi", "le la de", '"*:% NEAR(', "x" * 1_000,
                                   "pistes " * 150])
def test_short_empty_or_odd_text_gives_a_fragment_never_an_error(client: WebClient, session: Session,
                                                                 title: str) -> None:
    call = make_call(session)
    make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold")
    _index(session)
    fragment = client.get(f"/calls/{call.slug}/similar", params={"title": title, "body": "NEAR( " * 300})
    assert fragment.status_code == 200
    if title.startswith("pistes"):
        assert _titles(fragment.text) == ["Pistes cyclables sécurisées rue Léopold"]
    else:
        assert fragment.text.strip() == ""


def test_an_unknown_or_unpublished_call_is_not_found(client: WebClient, session: Session) -> None:
    secret = make_call(session, phase="draft")
    make_idea(session, secret, title="Pistes cyclables sécurisées rue Léopold")
    _index(session)
    assert client.get(f"/calls/{secret.slug}/similar", params={"title": "pistes cyclables"}).status_code == 404
    assert client.get("/calls/nowhere/similar", params={"title": "pistes cyclables"}).status_code == 404


def test_the_form_has_the_button_and_the_live_region(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert f'formaction="/calls/{call.slug}/ideas/new/similar"' in form
    assert f'<div id="similar-ideas" aria-live="polite" data-similar-url="/calls/{call.slug}/similar">' in form
    assert '<script src="/static/js/similar.js" defer></script>' in form
    assert client.get("/static/js/similar.js").status_code == 200


def test_the_button_without_javascript_keeps_what_was_typed(client: WebClient, session: Session) -> None:
    call = make_call(session)
    existing = make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold")
    author = make_user(session)
    _index(session)
    client.login_as(author)
    typed = {"title": "Plus de pistes cyclables rue Léopold", "body_md": 'Des pistes <b>"larges"</b> & sûres.',
             "district_id": "", "alt_photo_1": "La rue le matin"}
    page = client.submit(f"/calls/{call.slug}/ideas/new/similar", typed)
    assert page.status_code == 200
    assert 'value="Plus de pistes cyclables rue Léopold"' in page.text
    assert "Des pistes &lt;b&gt;&#34;larges&#34;&lt;/b&gt; &amp; sûres.</textarea>" in page.text
    assert 'value="La rue le matin"' in page.text
    assert _titles(page.text) == [existing.title]
    # Nothing was saved, and the form shown again can still be sent (CSRF and one-time token).
    session.expire_all()
    assert session.exec(select(Idea).where(Idea.author_id == author.id)).all() == []
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    sent = client.submit(f"/calls/{call.slug}/ideas/new", {**typed, "action": "submit", "form_token": token.group(1)})
    assert sent.status_code == 303


def test_the_button_says_when_nothing_is_similar(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    page = client.submit(f"/calls/{call.slug}/ideas/new/similar", {"title": "Un kiosque à musique", "body_md": ""})
    assert page.status_code == 200 and "No similar idea found in this call." in page.text


def test_the_button_is_refused_to_visitors(client: WebClient, session: Session) -> None:
    call = make_call(session)
    session.commit()
    response = client.submit(f"/calls/{call.slug}/ideas/new/similar", {"title": "Pistes cyclables"})
    assert response.status_code == 303 and "/login" in response.headers["location"]  # as the form itself


def test_moderators_see_possible_duplicates_of_a_pending_idea(client: WebClient, session: Session) -> None:
    call = make_call(session, premoderation=True)
    original = make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold")
    make_idea(session, call, title="Un kiosque à musique", body="Pour les concerts d'été.")
    pending = make_idea(session, call, title="Plus de pistes cyclables rue Léopold", status="submitted")
    _index(session)
    client.login_as(make_user(session, role=Role.moderator))
    session.commit()
    page = client.get(f"/moderation/ideas/{pending.id}").text
    assert "Possible duplicates" in page
    section = page.split('<section class="similar-ideas"')[1].split("</section>")[0]
    assert _titles(section) == [original.title]
    assert f'href="/moderation/ideas/{original.id}"' in section
    published = client.get(f"/moderation/ideas/{original.id}").text
    assert "Possible duplicates" not in published  # only pending ideas get suggestions


def test_the_fragment_speaks_the_visitor_s_language(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold", vote_count=2)
    _index(session)
    assert client.get("/?lang=fr").status_code == 200
    fragment = client.get(f"/calls/{call.slug}/similar", params={"title": "pistes cyclables"}).text
    assert "Idées semblables déjà proposées" in fragment and "Soutenir plutôt celle-ci" in fragment
    assert "2 soutiens" in fragment
