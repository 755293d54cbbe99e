"""Proposing, editing, submitting and withdrawing ideas through the forms."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.account.models import Role
from app.call.models import Phase
from app.idea.models import Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange
from app.media.models import MediaFile
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.idea.helpers import png
from tests.support import WebClient

BODY = "Installer des bancs à l'ombre le long du quai pour les personnes âgées."


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_citizen_publishes_an_idea_with_a_photo(client: WebClient, session: Session) -> None:
    call = make_call(session)
    theme = make_category(session, call, name="Espaces verts")
    district = make_district(session, name="Outremeuse")
    author = make_user(session, display_name="Camille")
    session.commit()
    client.login_as(author)
    form = client.get(f"/calls/{call.slug}/ideas/new")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    response = client.submit(
        f"/calls/{call.slug}/ideas/new",
        {"title": "Des bancs sur le quai", "body_md": BODY, "category_id": str(theme.id),
         "district_id": str(district.id), "alt_photo_1": "Le quai au soleil", "action": "submit"},
        files={"photo_1": ("quai.png", png(), "image/png")},
    )
    assert response.status_code == 303
    idea = session.exec(select(Idea)).one()
    assert response.headers["location"] == f"/ideas/{idea.id}"
    assert (idea.status, idea.author_id, idea.category_id, idea.district_id) == (
        IdeaStatus.published, author.id, theme.id, district.id)
    assert idea.published_at is not None
    page = client.get(f"/ideas/{idea.id}").text
    assert "Votre idée est publiée" in page
    photo = session.exec(select(IdeaPhoto)).one()
    assert f'src="/ideas/{idea.id}/photos/{photo.id}/display" alt="Le quai au soleil"' in page
    assert "Camille" in page and "Outremeuse" in page and "Espaces verts" in page
    image = client.get(f"/ideas/{idea.id}/photos/{photo.id}/display")
    assert image.status_code == 200 and image.headers["x-content-type-options"] == "nosniff"
    history = session.exec(select(IdeaStatusChange).order_by(col(IdeaStatusChange.id))).all()
    assert [(h.from_status, h.to_status, h.actor_id) for h in history] == [
        (None, IdeaStatus.draft, author.id), (IdeaStatus.draft, IdeaStatus.published, author.id)]
    # The card on the call page: thumbnail with its size, lazy, excerpt.
    listing = client.get(f"/calls/{call.slug}").text
    assert f'src="/ideas/{idea.id}/photos/{photo.id}/thumb" alt="Le quai au soleil"' in listing
    assert 'loading="lazy"' in listing and 'width="64" height="48"' in listing
    assert "Installer des bancs" in listing


def test_premoderated_call_queues_the_idea_and_extra_fields_are_ignored(client: WebClient,
                                                                         session: Session) -> None:
    call = make_call(session, premoderation=True)
    author = make_user(session)
    someone = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {
        "title": "Une idée honnête", "body_md": BODY, "action": "submit",
        "status": "published", "author_id": str(someone.id), "vote_count": "999", "hidden_at": "",
        "winner": "1", "call_id": "999"})
    assert response.status_code == 303
    idea = session.exec(select(Idea)).one()
    assert (idea.status, idea.author_id, idea.vote_count, idea.winner, idea.call_id) == (
        IdeaStatus.submitted, author.id, 0, False, call.id)
    client.cookies.clear()
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    # Editing with forged fields does not change them either.
    client.login_as(author)
    client.submit(f"/ideas/{idea.id}/edit", {"title": "Une idée honnête v2", "body_md": BODY,
                                             "status": "published", "author_id": str(someone.id)})
    session.expire_all()
    idea = session.get(Idea, idea.id)
    assert idea is not None and idea.title == "Une idée honnête v2"
    assert (idea.status, idea.author_id) == (IdeaStatus.submitted, author.id)


def test_invalid_form_is_refused_with_messages_and_nothing_written(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_category(session, call)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new",
                             {"title": "Oui", "body_md": "x" * 10_001, "category_id": "424242",
                              "district_id": "abc", "action": "submit"})
    assert response.status_code == 422
    assert "Le titre doit compter entre 5 et 120 caractères." in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Oui"' in response.text  # what was typed is kept
    assert _count(session, Idea) == 0 and _count(session, IdeaStatusChange) == 0
    # A theme is required on submission when the call has themes, not for a draft.
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Une idée sans thème", "body_md": BODY,
                                                             "action": "submit"})
    assert response.status_code == 422 and "Choisissez un thème" in response.text
    assert client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Une idée sans thème",
                                                           "action": "draft"}).status_code == 303
    assert _count(session, Idea) == 1


def test_refused_photo_keeps_the_rest_of_the_form(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(
        f"/calls/{call.slug}/ideas/new",
        {"title": "Un titre à garder", "body_md": "Un texte à garder <b>tel quel</b>", "alt_photo_1": "Ma légende",
         "alt_photo_2": "Une vraie photo", "action": "submit"},
        files={"photo_1": ("photo.jpg", b"%PDF-1.4 not an image at all", "image/jpeg"),
               "photo_2": ("ok.png", png(), "image/png")},
    )
    assert response.status_code == 422
    assert "pas une photo dans un format accepté" in response.text
    assert 'value="Un titre à garder"' in response.text
    assert "Un texte à garder &lt;b&gt;tel quel&lt;/b&gt;" in response.text
    assert 'value="Ma légende"' in response.text
    assert _count(session, Idea) == 0 and _count(session, MediaFile) == 0


def test_alt_text_is_required_for_each_photo_and_at_most_four(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Une idée illustrée", "body_md": BODY},
                             files={"photo_1": ("a.png", png(), "image/png")})
    assert response.status_code == 422 and "Décrivez la photo" in response.text
    assert _count(session, Idea) == 0


def test_ideas_per_citizen_limit(client: WebClient, session: Session) -> None:
    call = make_call(session, ideas_per_citizen=2)
    author = make_user(session)
    make_idea(session, call, author, status=IdeaStatus.withdrawn)  # taken back: does not count
    make_idea(session, call, author, status=IdeaStatus.draft)
    session.commit()
    client.login_as(author)
    assert client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Deuxième idée", "body_md": BODY,
                                                           "action": "submit"}).status_code == 303
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Troisième idée", "body_md": BODY,
                                                               "action": "submit"})
    assert response.status_code == 422
    assert "nombre d’idées autorisé par personne" in response.text
    assert _count(session, Idea) == 3
    # Another call has its own limit.
    other = make_call(session, ideas_per_citizen=1)
    session.commit()
    assert client.submit(f"/calls/{other.slug}/ideas/new", {"title": "Ailleurs aussi", "body_md": BODY,
                                                            "action": "submit"}).status_code == 303


def test_draft_then_edit_then_submit_then_withdraw(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Brouillon du soir", "action": "draft"})
    idea_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert session.get(Idea, idea_id).status == IdeaStatus.draft  # type: ignore[union-attr]
    # Submitting an incomplete draft sends the author back to the form.
    response = client.submit(f"/ideas/{idea_id}/submit")
    assert response.status_code == 303 and response.headers["location"] == f"/ideas/{idea_id}/edit"
    response = client.submit(f"/ideas/{idea_id}/edit", {"title": "Brouillon complété", "body_md": BODY,
                                                        "action": "save"},
                             files={"photo_1": ("a.png", png(), "image/png")})
    assert response.status_code == 422  # a photo without its description
    response = client.submit(f"/ideas/{idea_id}/edit", {"title": "Brouillon complété", "body_md": BODY,
                                                        "action": "submit", "alt_photo_1": "Un dessin"},
                             files={"photo_1": ("a.png", png(), "image/png")})
    assert response.status_code == 303
    session.expire_all()
    idea = session.get(Idea, idea_id)
    assert idea is not None and (idea.status, idea.title) == (IdeaStatus.published, "Brouillon complété")
    photo = session.exec(select(IdeaPhoto)).one()
    # Edit the photo's description, then remove it.
    client.submit(f"/ideas/{idea_id}/edit", {"title": "Brouillon complété", "body_md": BODY,
                                             "existing_id": str(photo.id), "existing_alt": "Un beau dessin"})
    session.expire_all()
    assert session.get(IdeaPhoto, photo.id).alt_text == "Un beau dessin"  # type: ignore[union-attr]
    client.submit(f"/ideas/{idea_id}/edit", {"title": "Brouillon complété", "body_md": BODY,
                                             "existing_id": str(photo.id), "existing_alt": "Un beau dessin",
                                             "remove_photo": str(photo.id)})
    assert _count(session, IdeaPhoto) == 0 and _count(session, MediaFile) == 0
    assert not any(p.is_file() for p in client.settings.media_dir.rglob("*"))  # the files are gone too
    assert client.submit(f"/ideas/{idea_id}/withdraw", {"confirm": "yes"}).status_code == 303
    session.expire_all()
    assert session.get(Idea, idea_id).status == IdeaStatus.withdrawn  # type: ignore[union-attr]
    page = client.get(f"/ideas/{idea_id}").text
    assert "Retirée" in page  # in the history
    client.cookies.clear()
    assert client.get(f"/ideas/{idea_id}").status_code == 404


def test_edit_rules(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.submissions)
    author = make_user(session)
    other = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, author, title="Idée d'origine")
    session.commit()
    for intruder in (other, moderator):
        client.cookies.clear()
        client.login_as(intruder)
        response = client.submit(f"/ideas/{idea.id}/edit", {"title": "Idée détournée", "body_md": BODY})
        assert response.status_code == 403
    client.cookies.clear()
    response = client.submit(f"/ideas/{idea.id}/edit", {"title": "Idée détournée", "body_md": BODY})
    assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    session.expire_all()
    assert session.get(Idea, idea.id).title == "Idée d'origine"  # type: ignore[union-attr]
    # Once voting starts, the author can no longer edit.
    call.phase_override = Phase.voting
    session.add(call)
    session.commit()
    client.login_as(author)
    assert client.get(f"/ideas/{idea.id}/edit").status_code == 403
    assert client.submit(f"/ideas/{idea.id}/edit", {"title": "Trop tard", "body_md": BODY}).status_code == 403
    # But a moderator's request for changes reopens it.
    idea.status = IdeaStatus.changes_requested
    session.add(idea)
    session.commit()
    assert client.submit(f"/ideas/{idea.id}/edit", {"title": "Corrigée", "body_md": BODY,
                                                    "action": "submit"}).status_code == 303
    session.expire_all()
    assert session.get(Idea, idea.id).status == IdeaStatus.published  # type: ignore[union-attr]


def test_creating_needs_an_open_call_and_a_confirmed_address(client: WebClient, session: Session) -> None:
    voting = make_call(session, phase=Phase.voting)
    open_call = make_call(session)
    unverified = make_user(session, verified=False)
    session.commit()
    assert client.get(f"/calls/{open_call.slug}/ideas/new", follow_redirects=False).status_code == 303
    client.login_as(unverified)
    response = client.submit(f"/calls/{open_call.slug}/ideas/new", {"title": "Une idée", "body_md": BODY})
    assert response.status_code == 403 and "confirmer votre adresse" in response.text
    assert _count(session, Idea) == 0
    verified = make_user(session)
    session.commit()
    client.login_as(verified)
    response = client.submit(f"/calls/{voting.slug}/ideas/new", {"title": "Une idée", "body_md": BODY})
    assert response.status_code == 403
    assert _count(session, Idea) == 0


def test_idea_page_shows_the_official_answer_and_the_history(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.results)
    author = make_user(session, display_name="Sofia Ricci")
    moderator = make_user(session, role=Role.moderator, display_name="Équipe modération")
    idea = make_idea(session, call, author, title="Des bancs place du Marché", answer_status="accepted",
                     answer_html="<p>Douze bancs seront installés.</p>")
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=author.id, to_status=IdeaStatus.draft))
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=author.id, from_status=IdeaStatus.draft,
                                 to_status=IdeaStatus.submitted))
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=moderator.id, from_status=IdeaStatus.submitted,
                                 to_status=IdeaStatus.published, note="Conforme à la charte."))
    session.commit()
    page = client.get(f"/ideas/{idea.id}").text
    assert "La réponse de la Ville\u202f: Acceptée" in page
    assert "<p>Douze bancs seront installés.</p>" in page
    assert "Proposée par Sofia Ricci" in page
    history = page[page.index('id="history-title"'):]
    assert history.index("Créée") < history.index("Soumise à la modération") < history.index("Publiée")
    assert "Équipe modération" in history and "Conforme à la charte." in history
    # French typography after the date's markup too: a narrow no-break space before the colon.
    assert "</time>\u202f:" in history and "</time>:" not in history


def test_too_long_fields_get_a_clear_message(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {"title": "T" * 500, "body_md": "B" * 12_000})
    assert response.status_code == 422
    assert "Le titre doit compter entre 5 et 120 caractères." in response.text
    assert "La description peut compter au maximum 10 000 caractères." in response.text
    assert _count(session, Idea) == 0


def test_my_ideas_lists_every_status_for_their_author_only(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    make_idea(session, call, author, title="Mon idée publiée")
    make_idea(session, call, author, title="Mon brouillon", status=IdeaStatus.draft)
    make_idea(session, call, title="L'idée d'un voisin")
    session.commit()
    assert client.get("/ideas/mine", follow_redirects=False).status_code == 303
    client.login_as(author)
    page = client.get("/ideas/mine").text
    assert "Mon idée publiée" in page and "Mon brouillon" in page and "Brouillon" in page
    assert "L'idée d'un voisin" not in page and "L&#39;idée d&#39;un voisin" not in page
