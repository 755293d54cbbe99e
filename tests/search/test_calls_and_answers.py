"""The search page also finds the city's official answers (the idea they answer) and the calls
for projects whose title or description holds the words; never a draft call."""

from sqlmodel import Session

from app.search import indexing
from tests.factories import make_call, make_idea
from tests.support import WebClient


def test_the_words_of_an_official_answer_find_the_idea_it_answers(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    make_idea(session, call, title="Des bacs dans le quartier", body="Pour les déchets verts.",
                         answer_status="accepted",
                         answer_html="<p>La Ville installera des <strong>composteurs</strong> partagés.</p>")
    make_idea(session, call, title="Des arbres", body="Plus d'ombre.")
    session.commit()
    indexing.rebuild(session)
    session.commit()
    page = client.get("/search", params={"q": "composteurs"}).text
    assert "Des bacs dans le quartier" in page and "Des arbres" not in page
    assert "1 idée trouvée" in page


def test_calls_are_found_by_their_words_accents_aside_and_drafts_never(client: WebClient, session: Session) -> None:
    make_call(session, phase="submissions", title="Énergie dans les écoles",
              description_md="Des panneaux solaires sur les toits de la **Boverie**.")
    make_call(session, phase="draft", title="Énergie secrète", description_md="Pas encore publiée.")
    session.commit()
    page = client.get("/search", params={"q": "energie"}).text
    assert "Énergie dans les écoles" in page and "Énergie secrète" not in page
    assert 'id="search-calls-title"' in page
    assert "Énergie dans les écoles" in client.get("/search", params={"q": "BOVERIE panneau"}).text
    assert "Énergie dans les écoles" not in client.get("/search", params={"q": "energie eolienne"}).text


def test_a_call_is_found_by_the_words_of_its_translations(client: WebClient, session: Session) -> None:
    """Content in every language (issue 18): a Dutch reader finds the French call by its Dutch title."""
    from app import contentlang

    call = make_call(session, phase="submissions", title="Budget participatif des quartiers",
                     description_md="Des projets pour chaque quartier.")
    contentlang.set_translations(call, "call", "nl", {"title": "Participatieve wijkbegroting",
                                                      "description_md": "Projecten voor elke **wijk**."})
    session.add(call)
    session.commit()
    page = client.get("/search", params={"q": "wijkbegroting", "lang": "nl"}).text
    assert 'id="search-calls-title"' in page and "Participatieve wijkbegroting" in page  # shown in Dutch
    assert 'id="search-calls-title"' in client.get("/search", params={"q": "wijk projecten"}).text
    assert 'id="search-calls-title"' not in client.get("/search", params={"q": "wijkbegroting eolienne"}).text


def test_the_words_of_an_answers_translation_find_the_idea_once_the_moderator_saves_it(
        client: WebClient, session: Session) -> None:
    """Content in every language (issue 18): the translation goes to the index with the answer."""
    from app.account.models import Role
    from tests.factories import make_user

    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title="Des bacs dans le quartier", body="Pour les déchets verts.",
                     answer_status="accepted", answer_html="<p>La Ville installera des composteurs partagés.</p>")
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    indexing.rebuild(session)
    session.commit()
    assert "Des bacs dans le quartier" not in client.get("/search", params={"q": "gedeelde compostbakken"}).text
    client.login_as(moderator)
    saved = client.submit(f"/moderation/ideas/{idea.id}/answer/translation",
                          {"language": "nl", "translation_md": "De stad plaatst **gedeelde compostbakken**."})
    assert saved.status_code == 303
    client.run_worker()  # the index follows through the outbox
    client.cookies.clear()
    found = client.get("/search", params={"q": "gedeelde compostbakken"}, headers={"Accept-Language": "nl"}).text
    assert "Des bacs dans le quartier" in found
    assert "Des bacs dans le quartier" in client.get("/search", params={"q": "composteurs"}).text  # still
