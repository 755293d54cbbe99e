"""The search page as people and attackers use it: words, filters with counts, sorts, pages,
highlights where only <mark> is markup, and clear messages for what cannot be searched."""

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.clock import utcnow
from app.search import backend as search_backend
from app.search import indexing
from tests.factories import make_call, make_category, make_idea
from tests.support import WebClient


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    """Pages in English (French is the default language); the cookie keeps the choice."""
    assert client.get("/?lang=en").status_code == 200


def _index(session: Session) -> None:
    indexing.rebuild(session)
    session.commit()


def test_the_header_has_an_accessible_search_box_on_every_page(client: WebClient) -> None:
    for page in ("/", "/calls"):
        html = client.get(page).text
        form = re.search(r'<form method="get" action="/search" class="header-search" role="search"[^>]*>(.*?)</form>',
                         html, re.S)
        assert form is not None
        assert '<label for="header-q"' in form.group(1) and 'id="header-q"' in form.group(1)
        assert 'name="q"' in form.group(1)


def test_results_are_highlighted_and_link_to_the_idea(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, title="Énergie solaire sur les écoles",
                     body="Des panneaux sur le toit de chaque **école** communale.")
    make_idea(session, call, title="Plus de bancs")
    _index(session)
    page = client.get("/search", params={"q": "energie ecole"})
    assert page.status_code == 200
    assert f'href="/ideas/{idea.id}"><mark>Énergie</mark> solaire sur les <mark>écoles</mark></a>' in page.text
    assert "de chaque <mark>école</mark> communale" in page.text  # Markdown left out of the excerpt
    assert "Plus de bancs" not in page.text
    assert "1 idea found" in page.text


def test_an_xss_title_is_inert_in_results_and_highlights(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_idea(session, call, title='<script>alert(1)</script> Kiosque <img src=x onerror=alert(2)>',
              body='Kiosque <b onmouseover="alert(3)">gras</b> "quoted" & co')
    _index(session)
    page = client.get("/search", params={"q": "kiosque script img"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b onmouseover" not in page.text
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; <mark>Kiosque</mark>" in page.text
    tags = set(re.findall(r"<(/?[a-z0-9]+)", page.text.split('<ol class="search-results">')[1].split("</ol>")[0]))
    assert tags <= {"li", "/li", "h2", "/h2", "a", "/a", "p", "/p", "mark", "/mark", "span", "/span"}


def test_filters_show_counts_and_narrow_the_results_without_javascript(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Liège 2030")
    trees = make_category(session, call, name="Nature")
    make_idea(session, call, title="Arbres rue A", category=trees, vote_count=2)
    make_idea(session, call, title="Arbres rue B", category=trees, vote_count=8)
    make_idea(session, call, title="Arbres rue C")
    _index(session)
    page = client.get("/search", params={"q": "arbres"})
    assert f'<option value="{trees.id}" lang="fr">Nature (2)</option>' in page.text  # a French name, an English page
    assert f'<option value="{call.id}" lang="fr">Liège 2030 (3)</option>' in page.text
    narrowed = client.get("/search", params={"q": "arbres", "category": str(trees.id), "sort": "supported"})
    titles = re.findall(r'<h2 class="search-result-title"><a href="/ideas/\d+">(.*?)</a>', narrowed.text)
    assert titles == ["<mark>Arbres</mark> rue B", "<mark>Arbres</mark> rue A"]
    assert f'<option value="{trees.id}" selected lang="fr">Nature (2)</option>' in narrowed.text


def test_an_id_in_the_address_never_names_a_call_in_preparation(client: WebClient, session: Session) -> None:
    secret = make_call(session, phase="draft", title="Appel secret en préparation")
    secret_theme = make_category(session, secret, name="Thème secret")
    make_idea(session, secret, title="Banc secret", category=secret_theme)
    make_idea(session, make_call(session), title="Banc public")
    _index(session)
    page = client.get("/search", params={"q": "banc", "call": str(secret.id), "category": str(secret_theme.id)})
    assert page.status_code == 200 and "No idea matches" in page.text
    assert "secret" not in page.text.lower().replace("q=banc", "")


def test_pages_keep_the_query_and_filters(client: WebClient, session: Session) -> None:
    call = make_call(session)
    for n in range(23):
        make_idea(session, call, title=f"Banc numéro {n}")
    _index(session)
    first = client.get("/search", params={"q": "banc", "sort": "newest"})
    assert "23 ideas found" in first.text and first.text.count('class="search-result"') == 20
    assert 'href="/search?q=banc&amp;sort=newest&amp;page=2"' in first.text
    second = client.get("/search?q=banc&sort=newest&page=2")
    assert second.text.count('class="search-result"') == 3 and "<mark>Banc</mark> numéro 0" in second.text
    assert client.get("/search?q=banc&page=99999999999").status_code == 200


NO_WORDS = "Type at least one word of two letters or more"
NO_MATCH = "No idea matches"
FOUND = "<mark>Banc</mark> public"


@pytest.mark.parametrize(("query", "expected"), [
    ("%", NO_WORDS), ('"', NO_WORDS), ("*", NO_WORDS), (":", NO_WORDS), ("NEAR(", NO_MATCH), ("de la", NO_WORDS),
    ("banc*", FOUND), ("-banc", FOUND), ('"banc', FOUND), ("banc:", FOUND), ("%banc%", FOUND),
    ("NEAR(banc, 2)", NO_MATCH), ('title:"banc"', NO_MATCH),  # "near" and "title" are words to find
])
def test_operators_give_results_or_a_message_never_an_error(client: WebClient, session: Session, query: str,
                                                            expected: str) -> None:
    make_idea(session, make_call(session), title="Banc public")
    _index(session)
    page = client.get("/search", params={"q": query})
    assert page.status_code == 200
    assert expected in page.text


def test_a_too_long_query_gets_a_translated_message(client: WebClient, session: Session) -> None:
    make_idea(session, make_call(session), title="Banc public")
    _index(session)
    page = client.get("/search", params={"q": "banc " * 200})
    assert page.status_code == 200
    assert "Your search is too long: use at most 200 characters." in page.text
    assert 'aria-invalid="true"' in page.text
    french = client.get("/search", params={"q": "a" * 1000, "lang": "fr"})
    assert french.status_code == 200
    assert "Votre recherche est trop longue\u202f: utilisez au plus 200 caractères." in french.text
    empty = client.get("/search", params={"q": "  ", "lang": "fr"})
    assert empty.status_code == 200 and "Cherchez parmi les idées publiques" in empty.text


def test_beyond_the_count_cap_the_page_says_more_than_and_what_is_counted(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_backend, "COUNT_CAP", 2)  # as 1,000 is, for three ideas
    call = make_call(session)
    for n in range(3):
        make_idea(session, call, title=f"Banc numéro {n}")
    _index(session)
    page = client.get("/search", params={"q": "banc"})
    assert page.status_code == 200
    assert "More than 2 ideas found" in page.text
    assert "Only 2 of them are counted in the filters and shown in the pages" in page.text
    assert page.text.count('class="search-result"') == 2
    french = client.get("/search", params={"q": "banc", "lang": "fr"})
    assert "Plus de 2 idées trouvées" in french.text


def test_a_typo_finds_the_idea_and_the_page_marks_the_word_found(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, title="Une bibliothèque de rue", body="Des livres à échanger dans la bibliothèque.")
    make_idea(session, call, title="Plus de bancs")
    _index(session)
    page = client.get("/search", params={"q": "bibliotèque"})  # the "h" forgotten
    assert page.status_code == 200
    assert f'href="/ideas/{idea.id}">Une <mark>bibliothèque</mark> de rue</a>' in page.text
    assert "échanger dans la <mark>bibliothèque</mark>." in page.text
    assert "1 idea found" in page.text and "Plus de bancs" not in page.text


def test_a_typo_never_reveals_a_word_of_a_call_in_preparation(client: WebClient, session: Session) -> None:
    """An idea of a call in preparation is indexed but not public: a typo of its word finds
    nothing and the page names neither the word nor the idea; once the call opens (by date, no
    write), the same typo is corrected to it."""
    preparing = make_call(session, phase="draft", title="Appel en préparation")
    idea = make_idea(session, preparing, title="Une fontaine sur la place", body="De l'eau fraîche.")
    # A public word two letters from the typo: the hidden word, taken as a correction, would find
    # it as a prefix and so tell that some idea holds "fontaine".
    make_idea(session, make_call(session), title="Les fontaines du parc", body="Près des bancs.")
    _index(session)
    page = client.get("/search", params={"q": "fontanie"})  # two letters swapped
    assert page.status_code == 200
    assert "No idea matches “fontanie”" in page.text
    assert "fontaine" not in page.text.lower() and f"/ideas/{idea.id}" not in page.text
    preparing.submissions_start = utcnow() - timedelta(days=1)  # the call opens by date: no idea is reindexed
    session.add(preparing)
    session.commit()
    page = client.get("/search", params={"q": "fontanie"})
    assert f'href="/ideas/{idea.id}">Une <mark>fontaine</mark> sur la place</a>' in page.text
    assert "2 ideas found" in page.text and "Les <mark>fontaines</mark> du parc" in page.text
