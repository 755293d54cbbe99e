"""The contract every search backend keeps, run against each backend available: the backend of
the database under test (FTS5 on SQLite, always; PostgreSQL full text when
REINVENTONS_TEST_DATABASE_URL points at PostgreSQL), and a real Meilisearch when
REINVENTONS_MEILI_URL (and REINVENTONS_MEILI_MASTER_KEY) is set, each test in an index of its
own, deleted afterwards. Each test arranges ideas, indexes them as the worker would, and searches.
Meilisearch is asked directly here, without the database behind it: a failure fails the test."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from meilisearch import Client
from sqlmodel import Session

from app.call.models import Call, Category, District
from app.clock import utcnow
from app.idea.models import AnswerStatus, IdeaStatus
from app.search import backend as search_backend
from app.search import indexing
from app.search.backend import UNANSWERED, SearchBackend, SearchQuery
from app.search.engines import database_backend
from app.search.meili import MeiliBackend
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea
from tests.support import make_settings

MEILI_URL = os.environ.get("REINVENTONS_MEILI_URL", "")
MEILI_MASTER_KEY = os.environ.get("REINVENTONS_MEILI_MASTER_KEY", "")


@pytest.fixture(params=["database", "meilisearch"])
def engine_settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Settings | None]:
    """None for the database's backend; for Meilisearch, settings naming an index of this test's own."""
    if request.param == "database":
        yield None
        return
    if not MEILI_URL:
        pytest.skip("REINVENTONS_MEILI_URL is not set: no Meilisearch server to run the contract against")
    settings = make_settings(tmp_path / "meili-var", database_url, meili_url=MEILI_URL,
                             meili_master_key=MEILI_MASTER_KEY, meili_index=f"reinventons_test_{uuid4().hex}",
                             meili_timeout_ms=5_000)
    yield settings
    Client(MEILI_URL, MEILI_MASTER_KEY or None, timeout=10).delete_index(settings.meili_index)


@pytest.fixture
def backend(session: Session, engine_settings: Settings | None) -> SearchBackend:
    if engine_settings is None:
        return database_backend(session)
    return MeiliBackend(engine_settings)  # not WithFallback: the database must not answer for it


def test_the_backend_is_the_one_under_test(session: Session, backend: SearchBackend,
                                           engine_settings: Settings | None) -> None:
    assert backend.name == ("meilisearch" if engine_settings else session.get_bind().dialect.name)


@dataclass
class World:
    call: Call
    other_call: Call
    mobility: Category
    energy: Category
    centre: District
    outremeuse: District


def _world(session: Session) -> World:
    call = make_call(session, title="Liège 2030")
    other = make_call(session, title="Budget participatif")
    return World(call, other, make_category(session, call, name="Mobilité"),
                 make_category(session, call, name="Énergie"), make_district(session, name="Centre"),
                 make_district(session, name="Outremeuse"))


def _titles(session: Session, backend: SearchBackend, text: str, **filters: object) -> list[str]:
    return [h.idea.title for h in backend.search(session, SearchQuery(text=text, **filters)).hits]  # type: ignore[arg-type]


def _index(session: Session, backend: SearchBackend) -> None:
    """Rebuild `backend`'s index, and the database's (which `_indexed` counts), as the worker would."""
    if backend.name == "meilisearch":
        indexing.rebuild_with(session, database_backend(session))
    indexing.rebuild_with(session, backend)
    session.commit()


def test_accents_and_case_are_ignored_both_ways(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    make_idea(session, w.call, title="Énergie solaire sur les toits", body="Des panneaux partout.")
    make_idea(session, w.call, title="Une cour verte pour chaque école", body="Moins de béton.")
    make_idea(session, w.call, title="Plus de bancs", body="Pour s'asseoir.")
    _index(session, backend)
    assert _titles(session, backend, "energie") == ["Énergie solaire sur les toits"]
    assert _titles(session, backend, "ECOLE") == ["Une cour verte pour chaque école"]
    assert _titles(session, backend, "ÉCOLE beton") == ["Une cour verte pour chaque école"]
    assert _titles(session, backend, "ÉNERGIE") == ["Énergie solaire sur les toits"]
    assert _titles(session, backend, "photovoltaique") == []


def test_a_prefix_finds_the_word_and_stop_words_are_left_out(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    make_idea(session, w.call, title="Pistes cyclables sécurisées rue Léopold", body="Séparées des voitures.")
    make_idea(session, w.call, title="Un marché du soir", body="Le jeudi.")
    _index(session, backend)
    assert _titles(session, backend, "cycl") == ["Pistes cyclables sécurisées rue Léopold"]
    assert _titles(session, backend, "leo") == ["Pistes cyclables sécurisées rue Léopold"]
    # "de", "la", "the" would match almost everything: they are not searched for.
    assert _titles(session, backend, "de la pistes the") == ["Pistes cyclables sécurisées rue Léopold"]
    # Every word must be found.
    assert _titles(session, backend, "pistes marché") == []


LONG_WORD = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"  # 80 letters


def test_a_prefix_finds_a_word_longer_than_the_vocabulary_keeps(session: Session, backend: SearchBackend,
                                                                 engine_settings: Settings | None) -> None:
    """A prefix also starting shorter words ("donau") finds a word of 80 letters too, which a
    prefix expanded into the words of 4 to 40 letters alone would miss; and still once another
    idea holding it is edited or removed."""
    w = _world(session)
    long = make_idea(session, w.call, title=f"La {LONG_WORD} du fleuve")
    make_idea(session, w.call, title="Le Donau est un fleuve")
    other = make_idea(session, w.call, title=f"Une autre {LONG_WORD}")
    _index(session, backend)
    both = [long.title, other.title]
    for text in ("don", "dona", "donau"):
        assert sorted(_titles(session, backend, text)) == sorted([*both, "Le Donau est un fleuve"]), text
    for text in ("donaudampf", LONG_WORD[:45]):
        assert sorted(_titles(session, backend, text)) == sorted(both), text
    assert sorted(_titles(session, backend, "fleuve donau")) == sorted([long.title, "Le Donau est un fleuve"])
    other.hidden_at = utcnow()
    session.add(other)
    session.commit()
    assert other.id is not None
    assert indexing.reindex(session, other.id, engine_settings) is False
    session.commit()
    assert sorted(_titles(session, backend, "donau")) == sorted(["Le Donau est un fleuve", long.title])


def test_only_the_last_word_is_a_prefix_when_an_earlier_one_is_a_whole_word(session: Session,
                                                                          backend: SearchBackend) -> None:
    """As Meilisearch's prefix rule: earlier words typed in full are whole words ("piste" is not
    "pistes"), the last one is a prefix; an earlier word that is no word of the index stays a
    prefix. (Meilisearch itself also takes "pistes" for "piste" with a typo.)"""
    if backend.name == "meilisearch":
        pytest.skip("Meilisearch's typo tolerance finds \"pistes\" for \"piste\"")
    w = _world(session)
    make_idea(session, w.call, title="Une piste cyclable rue Léopold")
    make_idea(session, w.call, title="Des pistes cyclables au centre")
    _index(session, backend)
    assert _titles(session, backend, "piste cycl") == ["Une piste cyclable rue Léopold"]
    assert sorted(_titles(session, backend, "cycl piste")) == ["Des pistes cyclables au centre",
                                                               "Une piste cyclable rue Léopold"]
    assert sorted(_titles(session, backend, "pist cyclable")) == ["Des pistes cyclables au centre",
                                                                  "Une piste cyclable rue Léopold"]
    assert _titles(session, backend, "pistes cyclable") == ["Des pistes cyclables au centre"]
    assert _titles(session, backend, "cyclable leo") == ["Une piste cyclable rue Léopold"]


def test_an_earlier_word_only_ideas_of_a_call_in_preparation_hold_stays_a_prefix(
        session: Session, backend: SearchBackend) -> None:
    """Whether an earlier word is a whole word never depends on the ideas of a call in
    preparation: "piste" held by one of them alone does not keep "pistes" from being found."""
    if backend.name == "meilisearch":
        pytest.skip("Meilisearch's typo tolerance finds \"pistes\" for \"piste\"")
    preparing, _w = _preparing_and_public(session, backend, "Une piste cyclable rue Léopold",
                                          "Des pistes cyclables au centre")
    assert _titles(session, backend, "piste cycl") == ["Des pistes cyclables au centre"]
    _open(session, preparing)
    assert _titles(session, backend, "piste cycl") == ["Une piste cyclable rue Léopold"]


def test_a_one_letter_typo_finds_the_word_where_the_backend_corrects_typos(session: Session,
                                                                          backend: SearchBackend) -> None:
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    w = _world(session)
    make_idea(session, w.call, title="Une cour verte pour chaque école", body="Moins de béton.")
    make_idea(session, w.call, title="Pistes cyclables sécurisées rue Léopold", body="Séparées des voitures.")
    _index(session, backend)
    assert _titles(session, backend, "ecolle") == ["Une cour verte pour chaque école"]
    assert _titles(session, backend, "pistes cyclabes") == ["Pistes cyclables sécurisées rue Léopold"]
    results = backend.search(session, SearchQuery(text="Léopod"))
    assert [h.idea.title for h in results.hits] == ["Pistes cyclables sécurisées rue Léopold"]
    assert any(s.mark and s.text == "Léopold" for s in results.hits[0].title)  # the corrected word is marked
    assert _titles(session, backend, "xylophone") == []


def test_a_typo_in_a_word_with_an_accent_is_corrected(session: Session, backend: SearchBackend) -> None:
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    w = _world(session)
    make_idea(session, w.call, title="Une bibliothèque de rue", body="Des livres à échanger.")
    make_idea(session, w.call, title="Plus de bancs", body="Près de la fontaine.")
    _index(session, backend)
    results = backend.search(session, SearchQuery(text="bibliotèque"))  # the "h" forgotten, the accent typed
    assert [h.idea.title for h in results.hits] == ["Une bibliothèque de rue"]
    assert [s.text for s in results.hits[0].title if s.mark] == ["bibliothèque"]
    assert _titles(session, backend, "BIBLIOTHÈUQE") == ["Une bibliothèque de rue"]  # two letters swapped
    assert _titles(session, backend, "fontaime bancs") == ["Plus de bancs"]  # a letter replaced


def test_a_word_the_index_holds_is_never_corrected(session: Session, backend: SearchBackend) -> None:
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    w = _world(session)
    make_idea(session, w.call, title="Un marchand de glaces au parc")
    make_idea(session, w.call, title="Des enfants marchant vers l'école")
    make_idea(session, w.call, title="Les parents marchant aussi")
    _index(session, backend)
    # "marchant" is in more ideas, one letter away: "marchand" is a word of the index all the same.
    assert _titles(session, backend, "marchand") == ["Un marchand de glaces au parc"]
    assert _titles(session, backend, "MARCHÂND") == ["Un marchand de glaces au parc"]
    assert sorted(_titles(session, backend, "marchan")) == sorted([  # a prefix of both
        "Un marchand de glaces au parc", "Des enfants marchant vers l'école", "Les parents marchant aussi"])
    assert _titles(session, backend, "parc") == ["Un marchand de glaces au parc"]  # not "parents"


def test_a_typo_is_never_corrected_to_a_word_only_a_hidden_idea_has(session: Session, backend: SearchBackend,
                                                                    engine_settings: Settings | None) -> None:
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    w = _world(session)
    # "marchank" is one letter from both words; "marchand" comes first alphabetically, in as
    # many ideas as "marchant": only hiding its idea makes the correction "marchant".
    hidden = make_idea(session, w.call, title="Un marchand de glaces")
    make_idea(session, w.call, title="Des enfants marchant vers l'école")
    _index(session, backend)
    assert _titles(session, backend, "marchank") == ["Un marchand de glaces"]
    hidden.hidden_at = utcnow()
    session.add(hidden)
    session.commit()
    assert hidden.id is not None
    assert indexing.reindex(session, hidden.id, engine_settings) is False  # the worker takes it out
    session.commit()
    assert _titles(session, backend, "marchank") == ["Des enfants marchant vers l'école"]
    # The hidden idea's own word is no word of the index any more: a typo like any other.
    assert _titles(session, backend, "marchand") == ["Des enfants marchant vers l'école"]


def _open(session: Session, call: Call) -> None:
    """Open a call in preparation by the clock alone, as the date does: no idea is written or reindexed."""
    call.submissions_start = utcnow() - timedelta(days=1)
    session.add(call)
    session.commit()


def _preparing_and_public(session: Session, backend: SearchBackend, hidden: str, public: str) -> tuple[Call, World]:
    """A call in preparation whose one idea is titled `hidden`, and a public idea `public` in
    the world's call, both indexed: returns the call in preparation and the world."""
    w = _world(session)
    preparing = make_call(session, phase="draft", title="Appel en préparation")
    make_idea(session, preparing, title=hidden)
    make_idea(session, w.call, title=public)
    _index(session, backend)
    return preparing, w


def test_a_typo_is_never_corrected_to_a_word_only_ideas_of_a_call_in_preparation_hold(
        session: Session, backend: SearchBackend) -> None:
    """The ideas of a call in preparation are indexed (the call opens by date, with no write to
    index them then) but not public: their words are never a correction, which would reveal
    them; the next candidate an idea public now holds is."""
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    # "marchank" is one letter from both words, in as many ideas each: "marchand" would come
    # first (alphabetically, and by trigrams as alike) if its idea counted.
    preparing, w = _preparing_and_public(session, backend, "Un marchand de glaces",
                                         "Des enfants marchant vers l'école")
    results = backend.search(session, SearchQuery(text="marchank"))
    assert [h.idea.title for h in results.hits] == ["Des enfants marchant vers l'école"]
    assert [s.text for s in results.hits[0].title if s.mark] == ["marchant"]
    assert results.total == 1 and results.facets["call"] == {w.call.id: 1}
    assert _titles(session, backend, "marchanx glaces") == []  # nothing public holds "glaces"
    if backend.name == "meilisearch":
        return  # Meilisearch matches every word one typo away at once: it has no choice to make
    _open(session, preparing)
    assert _titles(session, backend, "marchank") == ["Un marchand de glaces"]


def test_a_word_only_ideas_of_a_call_in_preparation_start_is_corrected_as_any_typo(
        session: Session, backend: SearchBackend) -> None:
    """A typo that starts a word only ideas of a call in preparation hold ("marchand" of their
    "marchandise") is corrected as if they did not exist: kept as a prefix, it would find
    nothing where the same typo finds the public "marchant", and so tell that an idea not yet
    public holds a word starting so. Once the call opens, the word is a prefix of the index."""
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    if backend.name == "meilisearch":
        pytest.skip("Meilisearch matches every word one typo away at once: it has no choice to make")
    preparing, w = _preparing_and_public(session, backend, "Une marchandise secrète",
                                         "Des enfants marchant vers l'école")
    for text in ("marchand", "ecole marchand", "marchand ecole", "MARCHÂND"):
        results = backend.search(session, SearchQuery(text=text))
        assert [h.idea.title for h in results.hits] == ["Des enfants marchant vers l'école"], text
        assert results.total == 1 and results.facets["call"] == {w.call.id: 1}, text
        assert "marchant" in [s.text for s in results.hits[0].title if s.mark], text
    _open(session, preparing)
    assert _titles(session, backend, "marchand") == ["Une marchandise secrète"]
    assert _titles(session, backend, "marchandi") == ["Une marchandise secrète"]


def test_a_typo_is_never_corrected_to_a_word_an_edit_took_out(session: Session, backend: SearchBackend,
                                                              engine_settings: Settings | None) -> None:
    """A moderator takes a word out of an idea (a name, say): a typo one letter from it is
    corrected to a word the ideas hold now, not to the word taken out, which finds nothing."""
    if not backend.corrects_typos:
        pytest.skip(f"the {backend.name} backend does not correct typos")
    w = _world(session)
    edited = make_idea(session, w.call, title="Un marchand de glaces")
    make_idea(session, w.call, title="Des enfants marchant vers l'école")
    _index(session, backend)
    edited.title = "Un vendeur de glaces"
    session.add(edited)
    session.commit()
    assert edited.id is not None
    assert indexing.reindex(session, edited.id, engine_settings) is True  # the worker, after the edit
    session.commit()
    assert _titles(session, backend, "marchank") == ["Des enfants marchant vers l'école"]


def test_each_filter_and_the_facet_counts(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    make_idea(session, w.call, title="Parc A", category=w.mobility, district=w.centre)
    make_idea(session, w.call, title="Parc B", category=w.mobility, district=w.outremeuse,
              answer_status=AnswerStatus.accepted)
    make_idea(session, w.call, title="Parc C", category=w.energy, district=w.outremeuse)
    make_idea(session, w.other_call, title="Parc D")
    make_idea(session, w.call, title="Rue E", category=w.energy, district=w.centre)
    _index(session, backend)
    assert sorted(_titles(session, backend, "parc")) == ["Parc A", "Parc B", "Parc C", "Parc D"]
    assert sorted(_titles(session, backend, "parc", call_id=w.other_call.id)) == ["Parc D"]
    assert sorted(_titles(session, backend, "parc", category_id=w.mobility.id)) == ["Parc A", "Parc B"]
    assert sorted(_titles(session, backend, "parc", district_id=w.outremeuse.id)) == ["Parc B", "Parc C"]
    assert sorted(_titles(session, backend, "parc", status=AnswerStatus.accepted)) == ["Parc B"]
    assert sorted(_titles(session, backend, "parc", status=UNANSWERED)) == ["Parc A", "Parc C", "Parc D"]
    assert sorted(_titles(session, backend, "parc", category_id=w.mobility.id, district_id=w.centre.id)) == ["Parc A"]

    results = backend.search(session, SearchQuery(text="parc", category_id=w.mobility.id))
    assert results.total == 2
    # A facet counts under the other filters, not its own: every theme stays offered.
    assert results.facets["category"] == {w.mobility.id: 2, w.energy.id: 1}
    assert results.facets["district"] == {w.centre.id: 1, w.outremeuse.id: 1}
    assert results.facets["call"] == {w.call.id: 2}
    assert results.facets["status"] == {UNANSWERED: 1, AnswerStatus.accepted: 1}


def test_pages_and_sorts(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    for n in range(5):
        make_idea(session, w.call, title=f"Arbre {n}", vote_count=[3, 9, 1, 7, 5][n])
    _index(session, backend)
    first = backend.search(session, SearchQuery(text="arbre", sort="supported", per_page=2))
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert [h.idea.title for h in first.hits] == ["Arbre 1", "Arbre 3"]
    last = backend.search(session, SearchQuery(text="arbre", sort="supported", per_page=2, page=3))
    assert [h.idea.title for h in last.hits] == ["Arbre 2"]
    beyond = backend.search(session, SearchQuery(text="arbre", sort="supported", per_page=2, page=99))
    assert beyond.page == 3 and [h.idea.title for h in beyond.hits] == ["Arbre 2"]
    newest = backend.search(session, SearchQuery(text="arbre", sort="newest"))
    assert [h.idea.title for h in newest.hits] == [f"Arbre {n}" for n in (4, 3, 2, 1, 0)]


def test_a_title_match_ranks_before_a_body_match(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    # The body match is newer and its body names the word twice: only relevance puts the title first.
    make_idea(session, w.call, title="Des fontaines à eau potable", body="Au parc.")
    make_idea(session, w.call, title="Un parc pour les chiens", body="Avec fontaines, et des fontaines.")
    _index(session, backend)
    assert _titles(session, backend, "fontaines") == ["Des fontaines à eau potable", "Un parc pour les chiens"]


PRIVATE = {
    "draft": {"status": IdeaStatus.draft},
    "submitted": {"status": IdeaStatus.submitted},
    "rejected": {"status": IdeaStatus.rejected},
    "withdrawn": {"status": IdeaStatus.withdrawn},
    "changes_requested": {"status": IdeaStatus.changes_requested},
    "merged": {"status": IdeaStatus.merged},
    "hidden": {"status": IdeaStatus.published, "hidden_at": utcnow()},
}


@pytest.mark.parametrize("state", list(PRIVATE))
def test_ideas_not_public_are_never_indexed_nor_returned(session: Session, backend: SearchBackend,
                                                          state: str) -> None:
    w = _world(session)
    secret = make_idea(session, w.call, title="Kiosque secret", **PRIVATE[state])  # type: ignore[arg-type]
    make_idea(session, w.call, title="Kiosque public")
    _index(session, backend)
    assert _titles(session, backend, "kiosque") == ["Kiosque public"]
    assert _indexed(session) == 1
    # Even an index that has not caught up yet (the worker did not run) never shows it.
    assert secret.id is not None
    backend.index(session, [indexing.document_for(secret)])
    session.commit()
    assert _titles(session, backend, "kiosque") == ["Kiosque public"]


def test_ideas_of_a_call_in_preparation_are_not_returned(session: Session, backend: SearchBackend) -> None:
    draft_call = make_call(session, phase="draft")
    make_idea(session, draft_call, title="Kiosque en préparation")
    _index(session, backend)
    assert _titles(session, backend, "kiosque") == []


def _indexed(session: Session) -> int:
    session.expire_all()
    return int(session.execute(sa.text("SELECT count(*) FROM idea_search")).scalar_one())


def test_reindex_takes_out_an_idea_that_is_no_longer_public(session: Session, backend: SearchBackend,
                                                           engine_settings: Settings | None) -> None:
    w = _world(session)
    idea = make_idea(session, w.call, title="Serres communales")
    _index(session, backend)
    assert _indexed(session) == 1
    assert idea.id is not None
    idea.status = IdeaStatus.withdrawn
    session.add(idea)
    session.commit()
    assert indexing.reindex(session, idea.id, engine_settings) is False
    session.commit()
    assert _indexed(session) == 0
    idea.status = IdeaStatus.published
    idea.title = "Serres municipales"
    session.add(idea)
    session.commit()
    assert indexing.reindex(session, idea.id, engine_settings) is True
    session.commit()
    assert _titles(session, backend, "municipales") == ["Serres municipales"]
    assert _indexed(session) == 1


@pytest.mark.parametrize("text", ["", "   ", "%", '"', "*", "NEAR(", ":", "de la", 'NEAR(a b) title:x "x*',
                                  "parc" * 250, "-parc", "parc OR", "a" * 1000])
def test_operators_and_odd_queries_never_fail(session: Session, backend: SearchBackend, text: str) -> None:
    w = _world(session)
    make_idea(session, w.call, title="Parc du quartier")
    _index(session, backend)
    results = backend.search(session, SearchQuery(text=text))
    assert results.total == len(results.hits) <= 1


def test_operators_are_read_as_words(session: Session, backend: SearchBackend) -> None:
    w = _world(session)
    make_idea(session, w.call, title="Parc du quartier", body="Au bord de la rivière.")
    _index(session, backend)
    assert _titles(session, backend, 'title:parc') == []  # "title" is a word here, not a column
    assert _titles(session, backend, '"parc*" NEAR(quartier') == []  # "near" is a word, not in the title
    assert _titles(session, backend, '"parc*" quartier') == ["Parc du quartier"]
    assert _titles(session, backend, "parc% quartier:") == ["Parc du quartier"]


def test_beyond_the_count_cap_the_total_says_more_and_title_matches_come_first(
        session: Session, backend: SearchBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend.name == "meilisearch":
        pytest.skip("Meilisearch counts up to its maxTotalHits (10,000), too many ideas for a test")
    monkeypatch.setattr(search_backend, "COUNT_CAP", 3)  # the cap, as 1,000 is, for six ideas
    w = _world(session)
    titled = make_idea(session, w.call, title="Des bancs au parc", body="Pour lire.", category=w.mobility)
    for n in range(5):  # newer ideas naming the word in their body only
        make_idea(session, w.call, title=f"Idée {n}", body="Des bancs, encore des bancs.", category=w.energy)
    _index(session, backend)
    results = backend.search(session, SearchQuery(text="bancs"))
    assert results.capped and results.total == 3 and results.pages == 1
    # The title match comes first, although older than the three counted.
    assert [h.idea.id for h in results.hits][0] == titled.id
    assert sum(results.facets["category"].values()) == 3  # counted over the capped candidates
    small = backend.search(session, SearchQuery(text="bancs", category_id=w.mobility.id))
    assert not small.capped and small.total == 1 and [h.idea.id for h in small.hits] == [titled.id]
    # A call and a theme: the theme's five matches are more than the cap, so all are counted as such.
    narrowed = backend.search(session, SearchQuery(text="bancs", call_id=w.call.id, category_id=w.energy.id))
    assert narrowed.capped and narrowed.total == 3 and len(narrowed.hits) == 3
    # A theme of another call: nothing, and the theme's own call is counted in the call facet.
    elsewhere = backend.search(session, SearchQuery(text="bancs", call_id=w.other_call.id, category_id=w.mobility.id))
    assert elsewhere.total == 0 and elsewhere.hits == [] and elsewhere.facets["call"] == {w.call.id: 1}
    few = backend.search(session, SearchQuery(text="bancs", call_id=w.call.id, category_id=w.mobility.id))
    assert not few.capped and few.total == 1 and [h.idea.id for h in few.hits] == [titled.id]
