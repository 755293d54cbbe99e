"""The idea form's preview (issue 15): the idea as it will be shown, server-rendered so it works
without JavaScript, everything typed kept, nothing saved; the fragment static/js/preview.js
asks for; and the same for an author editing their idea."""

import re

import pytest
from sqlmodel import Session, select

from app.idea.models import Idea
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import png
from tests.support import WebClient


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    assert client.get("/?lang=en").status_code == 200


def _preview(html: str) -> str:
    return html.split('<section class="idea-preview"')[1].split("</section>")[0]


TYPED = {"title": "Des bancs <b>au parc</b>", "body_md": "Le **parc d'Avroy** manque de bancs.\n\n- près du kiosque\n"
         "- le long de l'étang\n\n<script>alert(1)</script>", "district_id": "", "alt_photo_1": "Le parc l'hiver"}


def test_the_preview_shows_the_idea_as_published_and_keeps_what_was_typed(client: WebClient,
                                                                          session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    client.login_as(author)
    session.commit()
    form = client.get(f"/calls/{call.slug}/ideas/new").text
    assert f'formaction="/calls/{call.slug}/ideas/new/preview#idea-preview" formnovalidate' in form
    assert '<script src="/static/js/preview.js" defer></script>' in form

    page = client.submit(f"/calls/{call.slug}/ideas/new/preview", TYPED)
    assert page.status_code == 200
    shown = _preview(page.text)
    assert "Des bancs &lt;b&gt;au parc&lt;/b&gt;" in shown  # the title is text, escaped
    assert "<strong>parc d&#39;Avroy</strong>" in shown or "<strong>parc d'Avroy</strong>" in shown
    assert "<li>près du kiosque</li>" in shown
    assert "<script>" not in shown  # the same sanitiser as the idea page
    assert "choose them again" not in shown  # no photo was chosen
    # Everything typed is in the form again, which can still be sent.
    assert 'value="Des bancs &lt;b&gt;au parc&lt;/b&gt;"' in page.text
    assert "manque de bancs." in page.text.split('name="body_md"')[1].split("</textarea>")[0]
    assert 'value="Le parc l&#39;hiver"' in page.text
    session.expire_all()
    assert session.exec(select(Idea).where(Idea.author_id == author.id)).all() == []
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    sent = client.submit(f"/calls/{call.slug}/ideas/new", {**TYPED, "action": "submit", "form_token": token.group(1)})
    assert sent.status_code == 303


def test_chosen_photos_must_be_chosen_again_and_the_page_says_so(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    page = client.submit(f"/calls/{call.slug}/ideas/new/preview", TYPED,
                         files={"photo_1": ("parc.png", png(), "image/png")})
    assert page.status_code == 200
    assert "please choose them again before sending your idea" in _preview(page.text)


def test_the_fragment_is_the_preview_alone(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    fragment = client.submit(f"/calls/{call.slug}/ideas/new/preview?fragment=1", TYPED)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section") or "<html" not in fragment.text
    assert "<html" not in fragment.text and 'name="title"' not in fragment.text
    assert "<li>le long de l&#39;étang</li>" in fragment.text or "<li>le long de l'étang</li>" in fragment.text


def test_an_empty_form_previews_without_an_error(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    page = client.submit(f"/calls/{call.slug}/ideas/new/preview", {"title": "", "body_md": ""})
    assert page.status_code == 200
    assert "No title yet" in _preview(page.text) and "No text yet" in _preview(page.text)


def test_visitors_and_others_cannot_preview(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, status="draft")
    session.commit()
    response = client.submit(f"/calls/{call.slug}/ideas/new/preview", TYPED)
    assert response.status_code == 303 and "/login" in response.headers["location"]
    client.login_as(make_user(session))
    session.commit()
    assert client.submit(f"/ideas/{idea.id}/edit/preview", TYPED).status_code in (403, 404)


def test_without_the_csrf_token_nothing_is_rendered(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    response = client.post(f"/calls/{call.slug}/ideas/new/preview", data=TYPED)
    assert response.status_code == 403
    assert "idea-preview-sheet" not in response.text


def test_an_author_previews_an_edit_with_the_photos_kept(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des bancs au parc", status="draft")
    client.login_as(author)
    session.commit()
    edit = client.get(f"/ideas/{idea.id}/edit").text
    assert f'formaction="/ideas/{idea.id}/edit/preview#idea-preview"' in edit
    page = client.submit(f"/ideas/{idea.id}/edit/preview", {"title": "Des bancs et des tables au parc",
                                                            "body_md": "Avec de *l'ombre*."})
    assert page.status_code == 200
    shown = _preview(page.text)
    assert "Des bancs et des tables au parc" in shown and "<em>l&#39;ombre</em>" in shown.replace("'", "&#39;")
    session.expire_all()
    assert session.get(Idea, idea.id).title == "Des bancs au parc"  # nothing saved


def test_the_preview_speaks_french(client: WebClient, session: Session) -> None:
    call = make_call(session)
    client.login_as(make_user(session))
    session.commit()
    assert client.get("/?lang=fr").status_code == 200
    page = client.submit(f"/calls/{call.slug}/ideas/new/preview", TYPED)
    assert "Aperçu" in _preview(page.text)
