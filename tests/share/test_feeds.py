"""Atom feeds of a call: published ideas, official answers and results, public content only,
valid Atom (RFC 4287) read with xml.etree."""

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
from sqlmodel import Session

from app.clock import utcnow
from app.moderation.results import publish_results
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

A = "{http://www.w3.org/2005/Atom}"
BASE = "http://testserver"


def _feed(client: WebClient, slug: str) -> ET.Element:
    response = client.get(f"/calls/{slug}/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"
    return root


def _stamp(text: str | None) -> datetime:
    assert text and text.endswith("Z")
    return datetime.fromisoformat(text)


def _check_atom(root: ET.Element, slug: str) -> list[ET.Element]:
    """The feed-level elements RFC 4287 requires, and each entry's; returns the entries."""
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert root.findtext(f"{A}id") == f"{BASE}/calls/{slug}/feed.atom"
    assert root.findtext(f"{A}title")
    _stamp(root.findtext(f"{A}updated"))
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}
    assert links == {"alternate": f"{BASE}/calls/{slug}", "self": f"{BASE}/calls/{slug}/feed.atom"}
    assert root.findtext(f"{A}author/{A}name") == "Réinventons"
    entries = root.findall(f"{A}entry")
    for entry in entries:
        assert (entry.findtext(f"{A}id") or "").startswith(BASE + "/")
        assert entry.findtext(f"{A}title")
        _stamp(entry.findtext(f"{A}updated"))
        link = entry.find(f"{A}link")
        assert link is not None and link.get("rel") == "alternate"
        assert (link.get("href") or "").startswith(BASE + "/")
        assert entry.find(f"{A}content") is not None and entry.find(f"{A}content").get("type") == "html"  # type: ignore[union-attr]
    assert len({e.findtext(f"{A}id") for e in entries}) == len(entries)
    return entries


def test_a_feed_lists_ideas_answers_and_results_and_only_public_ones(client: WebClient, session: Session) -> None:
    now = utcnow()
    call = make_call(session, phase="results", title="Liège en fleurs")
    old = make_idea(session, call, title="Des bacs à fleurs", body="Des **bacs** rue Léopold",
                    published_at=now - timedelta(days=3))
    make_idea(session, call, title="Un verger partagé", winner=True, published_at=now - timedelta(days=2),
              answer_status="accepted", answer_html="<p>Nous le <em>ferons</em>.</p>",
              answered_at=now - timedelta(days=1))
    for title, fields in (("Brouillon caché", {"status": "draft"}), ("Idée refusée", {"status": "rejected"}),
                          ("Idée retirée", {"status": "withdrawn"}), ("En attente", {"status": "submitted"}),
                          ("Idée masquée", {"hidden_at": now, "answer_status": "accepted",
                                            "answer_html": "<p>Réponse masquée</p>", "answered_at": now})):
        make_idea(session, call, title=title, winner=True, **fields)
    session.commit()

    root = _feed(client, call.slug)
    entries = _check_atom(root, call.slug)
    titles = [e.findtext(f"{A}title") for e in entries]
    assert titles == ["Résultats\u202f: Liège en fleurs", "Réponse officielle\u202f: Un verger partagé",
                      "Un verger partagé", "Des bacs à fleurs"]
    text = ET.tostring(root, encoding="unicode")
    for hidden in ("Brouillon caché", "Idée refusée", "Idée retirée", "En attente", "Idée masquée",
                   "Réponse masquée"):
        assert hidden not in text
    by_title = {e.findtext(f"{A}title"): e for e in entries}
    idea_entry = by_title["Des bacs à fleurs"]
    assert idea_entry.findtext(f"{A}id") == f"{BASE}/ideas/{old.id}"
    assert idea_entry.findtext(f"{A}content") == "<p>Des <strong>bacs</strong> rue Léopold</p>\n"
    answer = by_title["Réponse officielle\u202f: Un verger partagé"]
    assert "<p>Nous le <em>ferons</em>.</p>" in (answer.findtext(f"{A}content") or "")
    assert (answer.findtext(f"{A}id") or "").endswith("#answer")
    results = by_title["Résultats\u202f: Liège en fleurs"]
    assert "Un verger partagé" in (results.findtext(f"{A}content") or "")
    assert _stamp(root.findtext(f"{A}updated")) == max(_stamp(e.findtext(f"{A}updated")) for e in entries)

    # Stable: the same document when nothing changed.
    assert client.get(f"/calls/{call.slug}/feed.atom").content == client.get(f"/calls/{call.slug}/feed.atom").content


def test_a_call_without_results_yet_has_no_results_entry(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="review")
    make_idea(session, call, title="Sélection provisoire", winner=True)
    session.commit()
    entries = _check_atom(_feed(client, call.slug), call.slug)
    assert [e.findtext(f"{A}title") for e in entries] == ["Sélection provisoire"]


def test_a_feed_holds_at_most_fifty_entries_newest_first(client: WebClient, session: Session) -> None:
    now = utcnow()
    call = make_call(session)
    for n in range(30):
        make_idea(session, call, title=f"Idée {n}", published_at=now - timedelta(hours=60 - n),
                  answer_status="under_study", answer_html="<p>À l'étude</p>",
                  answered_at=now - timedelta(hours=30 - n))
    session.commit()
    entries = _check_atom(_feed(client, call.slug), call.slug)
    assert len(entries) == 50
    stamps = [_stamp(e.findtext(f"{A}updated")) for e in entries]
    assert stamps == sorted(stamps, reverse=True)


def test_markup_in_titles_is_escaped_and_the_feed_still_parses(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Vélo <script>alert(1)</script> & co")
    make_idea(session, call, title="<script>alert(2)</script> & <b>gras</b>", body="<script>x</script> **ok** & fin")
    session.commit()
    response = client.get(f"/calls/{call.slug}/feed.atom")
    assert b"<script>" not in response.content
    root = _feed(client, call.slug)
    assert root.findtext(f"{A}title") == "Vélo <script>alert(1)</script> & co"
    entry = root.find(f"{A}entry")
    assert entry is not None
    assert entry.findtext(f"{A}title") == "<script>alert(2)</script> & <b>gras</b>"
    assert "<script>" not in (entry.findtext(f"{A}content") or "")  # sanitised at write time


def test_the_call_page_announces_its_feed(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Liège à vélo")
    session.commit()
    html = client.get(f"/calls/{call.slug}").text
    assert (f'<link rel="alternate" type="application/atom+xml" title="Flux de «\u202fLiège à vélo\u202f»" '
            f'href="{BASE}/calls/{call.slug}/feed.atom">') in html


def test_results_published_by_a_moderator_enter_the_feed_at_that_time(client: WebClient, session: Session,
                                                                     settings: Settings) -> None:
    call = make_call(session, phase="review", title="Budget 2027")
    make_idea(session, call, title="Une piste cyclable", winner=True, published_at=utcnow() - timedelta(days=9))
    moderator = make_user(session, role="admin")
    session.commit()
    assert "Résultats" not in client.get(f"/calls/{call.slug}/feed.atom").text

    published_at = utcnow()
    publish_results(session, actor=moderator, call=call, settings=settings)
    session.commit()
    entries = _check_atom(_feed(client, call.slug), call.slug)
    assert entries[0].findtext(f"{A}title") == "Résultats\u202f: Budget 2027"
    assert abs(_stamp(entries[0].findtext(f"{A}updated")) - published_at) < timedelta(seconds=5)


def test_a_feed_reader_reads_exactly_what_was_published(client: WebClient, session: Session) -> None:
    now = utcnow()
    call = make_call(session, title="Quartiers & places")
    first = make_idea(session, call, title="Une fontaine à Sainte-Walburge", published_at=now - timedelta(hours=2))
    second = make_idea(session, call, title="Des bancs <ombragés>", published_at=now - timedelta(hours=1))
    make_idea(session, call, title="Idée masquée", hidden_at=now)
    session.commit()

    parsed = feedparser.parse(client.get(f"/calls/{call.slug}/feed.atom").content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Quartiers & places"
    assert parsed.feed.language == "fr"
    assert [(e.title, e.link, e.id) for e in parsed.entries] == [
        ("Des bancs <ombragés>", f"{BASE}/ideas/{second.id}", f"{BASE}/ideas/{second.id}"),
        ("Une fontaine à Sainte-Walburge", f"{BASE}/ideas/{first.id}", f"{BASE}/ideas/{first.id}"),
    ]
    assert parsed.entries[0].content[0].type == "text/html"
    assert parsed.entries[0].content[0].value == "<p>Une idée détaillée pour améliorer la vie du quartier.</p>"


def test_a_feed_speaks_its_readers_language_and_marks_what_is_not(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget participatif")
    call.translations = {"nl": {"title": {"text": "Participatief budget"}}}
    dutch_idea = make_idea(session, call, title="Meer bomen in Outremeuse", language="nl")
    make_idea(session, call, title="Des bancs place Cathédrale", language="fr")
    answered = make_idea(session, call, title="Un abri vélo gare des Guillemins", language="fr",
                         answer_status="accepted", answer_html="<p>La Ville installe l'abri en mars.</p>",
                         answered_at=utcnow())
    answered.answer_translations = {"nl": {"answer_md": {"text": "De stad plaatst de stalling in maart.",
                                                         "html": "<p>De stad plaatst de stalling in maart.</p>"}}}
    untranslated = make_idea(session, call, title="Une fontaine à boire", language="fr", answer_status="accepted",
                             answer_html="<p>Une fontaine sera posée.</p>", answered_at=utcnow())
    session.add_all([call, answered, untranslated])
    session.commit()

    root = ET.fromstring(client.get(f"/calls/{call.slug}/feed.atom", headers={"Accept-Language": "nl"}).content)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert root.get(lang) == "nl"
    entries = {e.findtext(f"{A}id"): e for e in root.findall(f"{A}entry")}
    assert entries[f"{BASE}/ideas/{dutch_idea.id}"].get(lang) is None  # Dutch, as the feed
    french = [e for e in entries.values() if e.findtext(f"{A}title") == "Des bancs place Cathédrale"]
    assert french and french[0].get(lang) == "fr"  # written in French: said so
    answer = entries[f"{BASE}/ideas/{answered.id}#answer"]
    assert "De stad plaatst de stalling in maart." in (answer.findtext(f"{A}content") or "")
    assert "La Ville installe" not in (answer.findtext(f"{A}content") or "")
    other = entries[f"{BASE}/ideas/{untranslated.id}#answer"].findtext(f"{A}content") or ""
    assert '<div lang="fr"><p>Une fontaine sera posée.</p></div>' in other  # the original, marked
    parsed = feedparser.parse(client.get(f"/calls/{call.slug}/feed.atom", headers={"Accept-Language": "nl"}).content)
    assert not parsed.bozo
