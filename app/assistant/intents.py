"""Questions answered from the platform's live data at the moment they are asked: when voting
ends and the phases of a call, its rules, the asker's supports left, their ideas and each one's
status, why their idea was refused, where results are published.

`recognise` tells which of these a question is (word patterns per language, on the folded
question); `answer` reads the database for it and writes the answer in the current interface
language (app.i18n). Nothing is said that the asker may not see: another person's idea is
named only when it is public, and then only with its public official answer."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from app import authz, links
from app.account.models import User
from app.assistant.retrieval import PREFIX_MIN, normalise
from app.authz import Action
from app.call.models import Call, Phase, VoteScope
from app.call.phases import current_phase
from app.call.queries import PHASE_LABELS, timeline, visible_calls
from app.call.rules import phase_end
from app.call.service import categories_of
from app.i18n import _, format_date, ngettext
from app.idea.models import ANSWER_LABELS, AnswerStatus, Idea, IdeaStatus, IdeaStatusChange
from app.notify.service import STATUS_LABELS
from app.residents import service as residents
from app.residents.models import Access, Part
from app.search.text import fold
from app.vote.allowance import allowance


class Intent(StrEnum):
    supports_left = "supports_left"
    phases = "phases"
    rules = "rules"
    my_ideas = "my_ideas"
    why_refused = "why_refused"
    results = "results"


def _any(*words: str) -> str:
    return r"(?:" + "|".join(words) + r")"


# Folded word stems (no accents, lower case) per meaning, in French, Dutch, German and English.
_VOTES = _any(r"\bvot", r"\babstimm", r"\bsoutien", r"\bsupport", r"\bstem", r"\bsteun", r"\bstimm", r"\bunterstutz",
              r"\bvoix\b")
_LEFT = _any(r"\brest", r"\bleft\b", r"\bremain", r"\bcombien", r"\bhow many\b", r"\bhoeveel\b", r"\bover\b",
             r"\bnog\b", r"\bubrig", r"\bnoch\b", r"\bwie ?viele?\b", r"\bencore\b", r"\bstill\b")
_END = _any(r"\bfin\b", r"\bwhens\b", r"\b(?:is|vote|voting) over\b",
            r"\bfini", r"\btermin", r"\bend", r"\bclos", r"\beind", r"\bquand\b", r"\bwhen\b",
            r"\bwanneer\b", r"\bwann\b", r"\bjusqu", r"\btot wanneer\b", r"\buntil\b", r"\bbis\b", r"\bdeadline\b",
            r"\bdate", r"\bdatum", r"\bcommence", r"\bstart", r"\bbegin", r"\bouvert")
_PHASES = _any(r"\bphase", r"\btimeline\b", r"\betape", r"\bfasen?\b", r"\btijdlijn", r"\bablauf")
_CALENDAR = _any(r"\bcalendrier\b", r"\bschedule\b", r"\bplanning\b", r"\bzeitplan", r"\bdates?\b", r"\bdatum",
                 r"\bdata\b", r"\btermine?\b")
_CALL = _any(r"\bappel", r"\bcall\b", r"\boproep", r"\baufruf", r"\bconsultation", r"\bparticipation")
_SUBMIT = _any(r"\bdepos", r"\bpropos", r"\bsoumet", r"\bsubmit", r"\bindien", r"\beinreich", r"\bpost")
_RULES = _any(r"\bregle", r"\brules?\b", r"\bregels?\b", r"\bregeln?\b", r"\blimit", r"\bmaximum", r"\bmax\b",
              r"\bconditions?\b", r"\bvoorwaarden\b", r"\bbedingungen\b", r"\bqui peut\b", r"\bwho (?:can|may)\b",
              r"\bwie mag\b", r"\bwer darf\b", r"\bwer kann\b")
_IDEAS = _any(r"\bidee", r"\bidea", r"\bproje", r"\bvoorstel", r"\bvorschlag", r"\bproposition", r"\bproposal")
_HOW_MANY = _any(r"\bcombien\b", r"\bhow many\b", r"\bhoeveel\b", r"\bwie ?viele?\b", r"\bnombre\b", r"\baantal\b",
                 r"\banzahl\b")
_MINE = _any(r"\bmes\b", r"\bmon\b", r"\bma\b", r"\bmy\b", r"\bmijn\b", r"\bmeine?[nr]?\b", r"\bj ?ai\b",
             r"\bi\b", r"\bik\b", r"\bich\b")
_STATUS = _any(r"\bstatu", r"\bdevenu", r"\bou (?:en )?(?:est|sont)\b", r"\bnouvelle", r"\bhappen", r"\bgebeur",
               r"\bpassiert", r"\baccept", r"\baanvaard", r"\bangenommen",
               r"\bsuivi", r"\bstand\b", r"\bstaat\b", r"\bwhere (?:is|are)\b", r"\bwaar staat\b", r"\bwo steht\b",
               r"\bliste", r"\blist\b", r"\bvoir\b", r"\bsee\b", r"\bzien\b", r"\bsehen\b", r"\bretrouver")
_WHY = _any(r"\bpourquoi\b", r"\bpourkoi\b", r"\bwhy\b", r"\bwaarom\b", r"\bwarum\b", r"\braison", r"\breason",
            r"\breden", r"\bgrund", r"\bmotif")
_REFUSED = _any(r"\brefus", r"\brejet", r"\breject", r"\bgeweigerd", r"\bafgewezen", r"\babgelehnt", r"\bablehn",
                r"\bpas retenu", r"\bnot retained\b", r"\bturned down\b", r"\bdeclined\b", r"\bniet weerhouden\b",
                r"\bniet gekozen\b", r"\bnicht angenommen\b", r"\brefuz", r"\brefusee?\b", r"\bverworfen")
_RESULTS = _any(r"\bresultat", r"\bresults?\b", r"\bresultaten\b", r"\bergebnis", r"\buitslag", r"\blaureat",
                r"\bwinners?\b", r"\bgagnant", r"\bwinnaar", r"\bgewinner", r"\bgekozen projecten\b")
_SIGN_UP = _any(r"\bverifi", r"\bconfirm", r"\bcompte\b", r"\baccount\b", r"\bkonto\b", r"\bmot de passe\b",
                r"\bpassword\b", r"\bwachtwoord\b", r"\bpasswort\b", r"\bhow does\b", r"\bcomment ca marche\b",
                r"\bcomment fonctionne\b", r"\bhoe werkt\b", r"\bwie funktioniert\b", r"\bhow do(?:es)? .* work\b")
_DURATION = _any(r"\bcombien de temps\b", r"\bhow long\b", r"\bhoe lang\b", r"\bwie lange?\b")
_PEOPLE = _any(r"\bpersonnes\b", r"\bgens\b", r"\bpeople\b", r"\bmensen\b", r"\bleute\b", r"\bpersonen\b",
               r"\bparticipants?\b", r"\bdeelnemers\b", r"\bteilnehmer")
_STILL = _any(r"\brest", r"\bleft\b", r"\bremain", r"\bnog\b", r"\bubrig", r"\bnoch\b", r"\bencore\b", r"\bstill\b")
_QUOTED = re.compile(r"[«“„\"]\s*([^«»“”„\"]{3,200}?)\s*[»”“\"]")
_IDEA_REF = re.compile(r"(?:/ideas/|#|\bn[o°]?\s?|idee\s|idea\s)(\d{1,9})\b")


def recognise(question: str) -> Intent | None:
    """The live-data question `question` asks, or None: patterns on its folded text, the most
    specific first (a refusal before a status, supports left before the voting dates)."""
    text = " " + " ".join(re.findall(r"[^\W_]+", fold(question))) + " "
    if re.search(_WHY, text) and re.search(_REFUSED, text):
        return Intent.why_refused
    if re.search(_REFUSED, text) and re.search(_MINE, text) and re.search(_IDEAS, text):
        return Intent.why_refused
    if re.search(_DURATION, text) and (re.search(_VOTES, text) or re.search(_SUBMIT, text)):
        return Intent.phases
    if re.search(_HOW_MANY, text) and re.search(_VOTES, text) and re.search(_MINE, text) \
            and re.search(_IDEAS, text) and not re.search(_STILL, text):
        return Intent.my_ideas  # the supports one's own idea has
    if re.search(_VOTES, text) and re.search(_LEFT, text) and re.search(_MINE + "|" + _LEFT, text) \
            and not re.search(_SIGN_UP, text) and not re.search(_END, text.replace("combien", "")) \
            and not re.search(_PEOPLE, text):
        return Intent.supports_left
    if re.search(_RESULTS, text):
        return Intent.results
    if re.search(_MINE, text) and re.search(_IDEAS, text) \
            and (re.search(_STATUS, text) or len(text.split()) <= 2):
        return Intent.my_ideas
    if re.search(_HOW_MANY, text) and re.search(_IDEAS, text) and re.search(_SUBMIT, text):
        return Intent.rules
    if re.search(_RULES, text) and not re.search(_SIGN_UP, text):
        return Intent.rules
    if re.search(_PHASES, text) or (re.search(_CALENDAR, text) and re.search(_CALL + "|" + _VOTES, text)):
        return Intent.phases
    if re.search(_END, text) and (re.search(_VOTES, text) or re.search(_SUBMIT, text)) \
            and not re.search(_SIGN_UP, text):
        return Intent.phases
    return None


def recognise_in(session: Session, viewer: User | None, question: str) -> Intent | None:
    """`recognise`, and one more that needs the calls: dates or an end asked about a call the
    question names with every distinctive word of its title (« les dates du budget
    participatif ») are that call's phases."""
    intent = recognise(question)
    if intent is not None:
        return intent
    text = " " + " ".join(re.findall(r"[^\W_]+", fold(question))) + " "
    if re.search(_CALENDAR + "|" + _PHASES + "|" + _END, text) and not re.search(_SIGN_UP, text) \
            and named_call(session, viewer, question, minimum=1.0) is not None:
        return Intent.phases
    return None


@dataclass
class Link:
    label: str
    href: str


@dataclass
class LiveAnswer:
    """An answer from live data: `text` plain sentences (escaped when shown), `items` a list of
    linked lines (an idea and its status), `source` the page it comes from."""

    text: str
    source: Link | None = None
    items: list[Link] = field(default_factory=list)


def current_call(session: Session, viewer: User | None) -> Call | None:
    """The call a question without a call's name is about: the one open to votes, else open to
    ideas, else in review, else the latest with results; among the calls `viewer` may see."""
    calls = [c for c in visible_calls(session, viewer) if current_phase(c) != Phase.draft]
    for wanted in (Phase.voting, Phase.submissions, Phase.technical_review, Phase.review, Phase.results, Phase.closed):
        for call in calls:
            if current_phase(call) == wanted:
                return call
    return None


# Words of calls' titles too common to tell one call from another (folded and stemmed as
# app.assistant.retrieval.normalise gives them).
_GENERIC_TITLE_WORDS = frozenset(normalise(
    "appel appels projet projets call calls project projects oproep oproepen projecten aufruf aufrufe projekte "
    "idee idees idea ideas ideeen ideen vote votes voter voting stem stemmen stemming abstimmung abstimmen "
    "participation citoyenne citizens burger"))
NAMED_MIN = 0.5  # the share of a call's distinctive title words a question must hold to name it


def _same_word(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= PREFIX_MIN and (a.startswith(b) or b.startswith(a)))


def named_call(session: Session, viewer: User | None, question: str, minimum: float = NAMED_MIN) -> Call | None:
    """The call `question` names, among the calls `viewer` may see (drafts aside), or None: by
    its address or slug in the question, else by its title's distinctive words (normalised as
    app.assistant.retrieval does, without the words common to calls' titles and numbers): the
    call whose such words the question holds the largest share of, at least `minimum`. Two
    calls named as well as each other: None (the question does not say which)."""
    calls = [c for c in visible_calls(session, viewer) if current_phase(c) != Phase.draft]
    folded = fold(question)
    for call in calls:
        if re.search(rf"(?<![\w-]){re.escape(call.slug)}(?![\w-])", folded):
            return call
    asked = normalise(question)
    best: list[tuple[float, Call]] = []
    for call in calls:
        words = [w for w in normalise(call.title) if w not in _GENERIC_TITLE_WORDS and not w.isdigit()]
        matched = [w for w in words if any(_same_word(w, q) for q in asked)]
        if not words or not matched:
            continue
        share = len(matched) / len(words)
        if share >= minimum:
            best.append((share, call))
    best.sort(key=lambda pair: -pair[0])
    if not best or (len(best) > 1 and best[1][0] == best[0][0]):
        return None
    return best[0][1]


def _open_calls(session: Session, viewer: User | None) -> list[Call]:
    """The calls open to ideas or to votes that `viewer` may see, the soonest to end first."""
    found = [c for c in visible_calls(session, viewer) if current_phase(c) in (Phase.submissions, Phase.voting)]
    def ends(call: Call) -> datetime:  # naive UTC for all: SQLite gives naive datetimes back
        end = phase_end(call)
        return datetime.max if end is None else end.astimezone(UTC).replace(tzinfo=None) if end.tzinfo else end
    return sorted(found, key=ends)


def _which_call(session: Session, viewer: User | None, question: str) -> tuple[Call | None, list[Call]]:
    """The call a question is about: (the call it names, []); else, when several calls are open,
    (None, those calls), so that the answer lists them rather than picking one silently; else
    (`current_call`, [])."""
    named = named_call(session, viewer, question) if question else None
    if named is not None:
        return named, []
    open_calls = _open_calls(session, viewer)
    if len(open_calls) > 1:
        return None, open_calls
    return current_call(session, viewer), []


def _several(calls: list[Call]) -> LiveAnswer:
    """The open calls with their current phase and its end, for a question that names none."""
    items = []
    for call in calls:
        end = phase_end(call)
        phase = _(PHASE_LABELS[current_phase(call)])
        items.append(Link(_("{call}: {phase} until {date}", call=call.title, phase=phase, date=format_date(end))
                          if end is not None else f"{call.title}: {phase}", links.call_path(call.slug)))
    return LiveAnswer(_("Several calls are open at the moment. Name the one you mean; here are their dates:"),
                      Link(_("All calls"), links.path("call:list")), items)


def _call_link(call: Call) -> Link:
    return Link(call.title, links.call_path(call.slug))


def _login(text: str) -> LiveAnswer:
    return LiveAnswer(text, Link(_("Log in"), links.path("account:login", _query={"next": links.path(
        "assistant:page")})))


def _no_call() -> LiveAnswer:
    return LiveAnswer(_("No call for projects is open at the moment."), Link(_("All calls"), links.path("call:list")))


def supports_left(session: Session, user: User | None, question: str = "") -> LiveAnswer:
    """The asker's supports still free in the call the question names, else the current call,
    counted as voting counts them (app.vote.allowance), per theme when the call limits supports
    per theme; and, in a call for verified residents, that the asker must be one first
    (app.residents.service.may_take_part). With several calls open and none named, what is
    left in each of those open to votes (`_which_call`)."""
    if user is None or user.id is None:
        return _login(_("Log in and I will tell you how many supports you have left."))
    call, several = _which_call(session, user, question)
    voting = [c for c in several if c.id is not None and current_phase(c) == Phase.voting]
    if len(voting) > 1:
        held = allowance(session, user_id=user.id, call_ids=[c.id for c in voting if c.id is not None])
        items = [Link(_("{call}: {left} of {total} left", call=c.title, left=held.left(c, None),
                        total=c.votes_per_citizen) if c.vote_scope != VoteScope.category else
                      _("{call}: {total} supports per theme", call=c.title, total=c.votes_per_citizen),
                      links.call_path(c.slug)) for c in voting]
        return LiveAnswer(_("Several calls are open for voting. What you have left in each:"),
                          Link(_("All calls"), links.path("call:list")), items)
    if call is None and voting:
        call = voting[0]
    elif call is None and several:
        call = current_call(session, user)
    if call is None or call.id is None:
        return _no_call()
    held = allowance(session, user_id=user.id, call_ids=[call.id])
    total = call.votes_per_citizen
    if call.vote_scope == VoteScope.category:
        items = [Link(_("{theme}: {left} of {total} left", theme=c.name, left=held.left(call, c.id), total=total),
                      links.call_path(call.slug)) for c in categories_of(session, call.id)]
        return LiveAnswer(_("In “{call}”, each theme has its own {total} supports. What you have left:",
                            call=call.title, total=total) + _residents_only(session, user, call), _call_link(call),
                          items)
    left = held.left(call, None)
    text = _("You have {left} supports left out of {total} in “{call}”.", left=left, total=total, call=call.title)
    if current_phase(call) != Phase.voting and not call.voting_during_submissions:
        text += " " + _("Voting is not open at the moment.")
    return LiveAnswer(text + _residents_only(session, user, call), _call_link(call))


def _residents_only(session: Session, user: User, call: Call) -> str:
    """" " and the sentence saying that only verified residents may support ideas in `call`, when
    `user` is not one and the call requires it; else ""."""
    if residents.may_take_part(session, user, call, Part.vote):
        return ""
    return " " + _("Only verified residents of the city may support ideas in this call: have your account "
                   "verified first.")


def phases(session: Session, user: User | None, question: str = "") -> LiveAnswer:
    """The phases of the call the question names (else the current call) with their start
    dates, and when voting ends; with several calls open and none named, each one's phase and
    its end (`_which_call`)."""
    call, several = _which_call(session, user, question)
    if several:
        return _several(several)
    if call is None:
        return _no_call()
    parts = []
    if call.review_start is not None:
        parts.append(_("Voting in “{call}” ends on {date}.", call=call.title, date=format_date(call.review_start)))
    items = []
    for step in timeline(call):
        when = format_date(step.starts_at) if step.starts_at else _("date to come")
        label = _(step.label) + " — " + when
        if step.state == "current":
            label += " (" + _("now") + ")"
        items.append(Link(label, links.call_path(call.slug)))
    parts.append(_("The phases of the call:"))
    return LiveAnswer(" ".join(parts), _call_link(call), items)


def rules(session: Session, user: User | None, question: str = "") -> LiveAnswer:
    """The rules of the call the question names (else the current call): ideas and supports
    per person, per theme or per call, and who may take part; with several calls open and none
    named, which they are (`_which_call`)."""
    call, several = _which_call(session, user, question)
    if several:
        return _several(several)
    if call is None:
        return _no_call()
    scope = _("per theme") if call.vote_scope == VoteScope.category else _("in the whole call")
    who = {Access.residents.value: _("verified residents of the city only"),
           Access.email.value: _("anyone with a confirmed e-mail address")}
    text = " ".join([
        _("In “{call}”, each person may propose up to {ideas} ideas and give {supports} supports {scope}.",
          call=call.title, ideas=call.ideas_per_citizen, supports=call.votes_per_citizen, scope=scope),
        _("Who may propose ideas: {who}.", who=who.get(call.submit_access, who["email"])),
        _("Who may support them: {who}.", who=who.get(call.vote_access, who["email"])),
    ])
    return LiveAnswer(text, _call_link(call))


def _status(idea: Idea) -> str:
    label = _(STATUS_LABELS.get(idea.status, idea.status))
    if idea.answer_status:
        label += " — " + _(ANSWER_LABELS[AnswerStatus(idea.answer_status)])
    return label


def my_ideas(session: Session, user: User | None) -> LiveAnswer:
    """The asker's ideas (drafts included: they are theirs), each one's status and, once public,
    its supports."""
    if user is None:
        return _login(_("Log in and I will show you your ideas and their status."))
    ideas = session.exec(select(Idea).where(Idea.author_id == user.id)
                         .order_by(col(Idea.created_at).desc()).limit(20)).all()
    if not ideas:
        return LiveAnswer(_("You have not proposed any idea yet."), Link(_("All calls"), links.path("call:list")))
    items = [Link(f"{idea.title} — {_status(idea)}" + (" — " + ngettext("{count} support", "{count} supports",
                                                                         idea.vote_count, count=idea.vote_count)
                                                          if idea.is_public else ""),
                  links.idea_path(idea.id or 0)) for idea in ideas]
    return LiveAnswer(_("Your ideas and their status:"), Link(_("Your ideas"), links.path("idea:mine")), items)


def _reason(session: Session, idea: Idea) -> str:
    """The rejection reason the moderator gave (the idea's history), or ""."""
    note = session.exec(select(IdeaStatusChange.note).where(
        IdeaStatusChange.idea_id == idea.id, IdeaStatusChange.to_status == IdeaStatus.rejected)
        .order_by(col(IdeaStatusChange.id).desc()).limit(1)).first()
    return note or ""


def _only_yours() -> LiveAnswer:
    return LiveAnswer(_("I can only tell you why one of your own ideas was refused. The official answers to "
                        "public ideas are on their pages."))


def why_refused(session: Session, user: User | None, question: str) -> LiveAnswer:
    """Why an idea was refused. An idea named in the question (its number or link) is answered
    only when it is the asker's own, or public (then only its public official answer); any other
    gets the same refusal whether it exists or not; so does a title in quotes that is not one of
    the asker's own ideas. Without either, the asker's own refused ideas."""
    found = _IDEA_REF.search(fold(question))
    if found is not None:
        idea = session.get(Idea, int(found.group(1)))
        if idea is not None and user is not None and authz.is_author(user, idea):
            return _explain(session, [idea])
        if idea is not None and idea.is_public and authz.can(user, Action.idea_view, idea) and idea.answer_status:
            return LiveAnswer(_("The city's official answer to “{title}”: {status}.", title=idea.title,
                                status=_(ANSWER_LABELS[AnswerStatus(idea.answer_status)])),
                              Link(idea.title, links.idea_path(idea.id or 0)))
        return _only_yours()
    quoted = _QUOTED.search(question)
    if quoted is not None:
        wanted = fold(quoted.group(1)).strip()
        own = [] if user is None else [idea for idea in session.exec(select(Idea).where(Idea.author_id == user.id))
                                       if wanted in fold(idea.title)]
        return _explain(session, own[:5]) if own else _only_yours()
    if user is None:
        return _login(_("Log in and I will tell you why your idea was refused."))
    refused = session.exec(select(Idea).where(
        Idea.author_id == user.id,
        (col(Idea.status) == IdeaStatus.rejected) | (col(Idea.answer_status) == AnswerStatus.rejected))
        .order_by(col(Idea.updated_at).desc()).limit(5)).all()
    if not refused:
        return LiveAnswer(_("None of your ideas was refused."), Link(_("Your ideas"), links.path("idea:mine")))
    return _explain(session, list(refused))


def _explain(session: Session, ideas: list[Idea]) -> LiveAnswer:
    items = []
    for idea in ideas:
        if idea.status == IdeaStatus.rejected:
            reason = _reason(session, idea) or _("no reason was given")
            line = _("“{title}” was refused by the moderators: {reason}", title=idea.title, reason=reason)
        elif idea.answer_status == AnswerStatus.rejected:
            line = _("“{title}” was not retained by the city; its official answer is on its page.", title=idea.title)
        else:
            line = _("“{title}” was not refused: {status}.", title=idea.title, status=_status(idea))
        items.append(Link(line, links.idea_path(idea.id or 0)))
    first = ideas[0]
    return LiveAnswer(_("Here is what I know about your idea:") if len(ideas) == 1 else
                      _("Here is what I know about your refused ideas:"),
                      Link(first.title, links.idea_path(first.id or 0)), items)


def results(session: Session, user: User | None) -> LiveAnswer:
    """Where results are published: each call's page once moderators publish them; the calls
    with results now."""
    done = [c for c in visible_calls(session, user) if current_phase(c) in (Phase.results, Phase.closed)]
    text = _("Results are published on each call's page when the city publishes them, and announced on the "
             "city's channels and in the newsletter.")
    if not done:
        return LiveAnswer(text + " " + _("No call has results yet."), Link(_("All calls"), links.path("call:list")))
    return LiveAnswer(text + " " + _("Calls with results:"), _call_link(done[0]),
                      [Link(c.title, links.call_path(c.slug)) for c in done[:5]])


def answer(session: Session, intent: Intent, user: User | None, question: str) -> LiveAnswer:
    """The live answer to `intent` for `user` (None: a visitor), in the current language."""
    if intent == Intent.supports_left:
        return supports_left(session, user, question)
    if intent == Intent.phases:
        return phases(session, user, question)
    if intent == Intent.rules:
        return rules(session, user, question)
    if intent == Intent.my_ideas:
        return my_ideas(session, user)
    if intent == Intent.why_refused:
        return why_refused(session, user, question)
    return results(session, user)
