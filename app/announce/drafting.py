"""The first draft of an announcement: a translated template per language, filled with the
call's data (its title, the date that matters for the event) and a link to the page that tells
more, on BASE_URL. Moderators then edit the text; nothing here is sent anywhere."""

from datetime import datetime

from app import links
from app.announce.models import AnnouncementEvent
from app.call.models import Call
from app.i18n import N_, format_datetime, language, translate
from app.idea.models import Idea
from app.settings import LANGUAGES, Settings

# Each event: the template with the date that matters, and the one without (a call with no date set).
TEMPLATES: dict[str, tuple[str, str]] = {
    AnnouncementEvent.call_opens: (
        N_("The call “{title}” is open for ideas until {date}. Propose yours!"),
        N_("The call “{title}” is open for ideas. Propose yours!")),
    AnnouncementEvent.voting_opens: (
        N_("Voting is open on “{title}” until {date}. Support the ideas you like!"),
        N_("Voting is open on “{title}”. Support the ideas you like!")),
    AnnouncementEvent.voting_closes_soon: (
        N_("Last 48 hours to vote on “{title}”: voting closes on {date}."),
        N_("Last 48 hours to vote on “{title}”.")),
    AnnouncementEvent.results_published: (
        N_("The results of “{title}” are published: see the selected ideas and the city's answers."),
        N_("The results of “{title}” are published: see the selected ideas and the city's answers.")),
    AnnouncementEvent.idea_answered: (
        N_("The idea “{idea}” in the call “{title}” received an official answer from the city."),
        N_("The idea “{idea}” in the call “{title}” received an official answer from the city.")),
    AnnouncementEvent.free: (N_("News about the call “{title}”."), N_("News about the call “{title}”.")),
}


def _first(*values: datetime | None) -> datetime | None:
    return next((value for value in values if value is not None), None)


def event_date(call: Call, event: str) -> datetime | None:
    """The moment an event's text names: when submissions end for `call_opens`, when voting
    ends for `voting_opens` and `voting_closes_soon`; None for the others or when unset."""
    if event == AnnouncementEvent.call_opens:
        return _first(call.technical_review_start, call.voting_start, call.review_start, call.results_start,
                      call.closes_at)
    if event in (AnnouncementEvent.voting_opens, AnnouncementEvent.voting_closes_soon):
        return _first(call.review_start, call.results_start, call.closes_at)
    return None


def draft_link(settings: Settings, event: str, call: Call | None, idea: Idea | None) -> str:
    """The absolute URL an announcement points to: the idea's answer, the call's results, the
    call's page, or the site's home page for a free announcement with no call."""
    if event == AnnouncementEvent.idea_answered and idea is not None and idea.id is not None:
        return settings.absolute_url(links.idea_path(idea.id, "answer"))
    if call is None:
        return settings.absolute_url(links.path("page:home"))
    if event == AnnouncementEvent.results_published:
        return settings.absolute_url(links.call_path(call.slug) + "#results-title")
    return settings.absolute_url(links.call_path(call.slug))


def draft_texts(event: str, call: Call | None, idea: Idea | None = None) -> dict[str, str]:
    """The template of `event` in every interface language (app.settings.LANGUAGES), filled
    with `call`'s title and dates in that language (dates in the city's time zone). A free
    announcement with no call starts empty. Raises KeyError for an unknown event."""
    with_date, without_date = TEMPLATES[event]
    if call is None:
        return dict.fromkeys(LANGUAGES, "")
    when = event_date(call, event)
    texts = {}
    for lang in LANGUAGES:
        with language(lang):
            params = {"title": call.title, "idea": idea.title if idea else ""}
            if when is not None:
                texts[lang] = translate(lang, with_date, date=format_datetime(when, "long"), **params)
            else:
                texts[lang] = translate(lang, without_date, **params)
    return texts
