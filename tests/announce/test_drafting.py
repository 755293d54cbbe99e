"""A draft is written from the event's template in every interface language, with the call's
title, its dates in that language and a link on BASE_URL."""

from datetime import UTC, datetime

from sqlmodel import Session

from app.announce.drafting import draft_link, draft_texts
from app.announce.models import AnnouncementEvent
from app.settings import Settings
from tests.factories import make_call, make_idea


def test_voting_opens_is_drafted_in_each_language_with_the_date_it_ends(session: Session) -> None:
    call = make_call(session, phase="voting", title="Liège en fleurs",
                     review_start=datetime(2026, 12, 3, 17, tzinfo=UTC))
    texts = draft_texts(AnnouncementEvent.voting_opens, call)
    assert texts == {
        "fr": "Le vote est ouvert sur «\u202fLiège en fleurs\u202f» jusqu’au 3 décembre 2026, 18:00. "
              "Soutenez les idées qui vous plaisent\u202f!",
        "en": "Voting is open on “Liège en fleurs” until December 3, 2026, 6:00\u202fPM. Support the ideas you like!",
        "nl": "De stemming over „Liège en fleurs” is open tot 3 december 2026, 18:00. Steun de ideeën die u bevallen!",
        "de": "Die Abstimmung zu „Liège en fleurs“ ist bis 3. Dezember 2026, 18:00 offen. "
              "Unterstützen Sie die Ideen, die Ihnen gefallen!",
    }


def test_each_event_has_its_own_text_and_link(session: Session, settings: Settings) -> None:
    call = make_call(session, phase="results", slug="boverie", title="Parc de la Boverie")
    idea = make_idea(session, call, title="Des bancs")
    results = draft_texts(AnnouncementEvent.results_published, call)
    assert results["fr"].startswith("Les résultats de «\u202fParc de la Boverie\u202f» sont publiés")
    assert results["de"].startswith("Die Ergebnisse von „Parc de la Boverie“")
    answered = draft_texts(AnnouncementEvent.idea_answered, call, idea)
    assert "«\u202fDes bancs\u202f»" in answered["fr"] and "“Des bancs”" in answered["en"]
    assert draft_link(settings, AnnouncementEvent.results_published, call, None) == \
        "http://testserver/calls/boverie#results-title"
    assert draft_link(settings, AnnouncementEvent.idea_answered, call, idea) == \
        f"http://testserver/ideas/{idea.id}#answer"
    assert draft_link(settings, AnnouncementEvent.free, None, None) == "http://testserver/"
    assert draft_texts(AnnouncementEvent.free, None) == {"fr": "", "en": "", "nl": "", "de": ""}


def test_a_call_without_dates_gets_the_text_without_a_date(session: Session) -> None:
    call = make_call(session, phase="submissions", title="Sans dates")
    call.voting_start = call.review_start = call.results_start = call.closes_at = None
    assert draft_texts(AnnouncementEvent.call_opens, call)["fr"] == \
        "L’appel «\u202fSans dates\u202f» est ouvert aux idées. Proposez la vôtre\u202f!"
