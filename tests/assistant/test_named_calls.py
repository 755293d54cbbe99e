"""The call a question names: « quand se termine le vote pour le budget participatif ? » is
answered for that call, by its title's words or its address, not for whichever is current; with
several calls open and none named, the answer lists them with their dates instead of picking one."""

from sqlmodel import Session

from app.account.models import User
from app.assistant import answering
from app.i18n import language
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user


def _ask(session: Session, question: str, user: User | None = None, lang: str = "fr") -> answering.Answer:
    with language(lang):
        return answering.understand(session, user=user, text=question, language=lang)


def _labels(answer: answering.Answer) -> str:
    return " | ".join(item.label for item in answer.items)


def test_the_call_named_by_its_title_words_is_the_one_answered(session: Session) -> None:
    make_call(session, phase="voting", title="Liège en vert")
    budget = make_call(session, phase="voting", title="Budget participatif 2027", slug="budget-2027")
    answer = _ask(session, "quand se termine le vote pour le budget participatif ?")
    assert answer.intent == "phases"
    assert "Budget participatif 2027" in answer.text and "Liège en vert" not in answer.text + _labels(answer)
    assert answer.source is not None and answer.source.href == f"/calls/{budget.slug}"
    # Without accents, in another language, by the call's address.
    assert "Liège en vert" in _ask(session, "quand finit le vote liege en vert").text
    assert "Liège en vert" in _ask(session, "when does voting end for liege en vert", lang="en").text
    assert "Budget participatif 2027" in _ask(session, "dates du vote de budget-2027 ?").text


def test_several_open_calls_and_none_named_are_listed_with_their_dates(session: Session) -> None:
    make_call(session, phase="voting", title="Liège en vert")
    make_call(session, phase="submissions", title="Budget participatif 2027")
    make_call(session, phase="results", title="Places publiques")  # not open: not listed
    answer = _ask(session, "quand se termine le vote ?")
    assert answer.intent == "phases" and "Plusieurs appels" in answer.text
    labels = _labels(answer)
    assert "Liège en vert" in labels and "Budget participatif 2027" in labels and "Places publiques" not in labels
    assert "jusqu’au" in labels or "jusqu'au" in labels  # each with the end of its phase
    # Words two calls share name neither of them.
    make_call(session, phase="voting", title="Parcs de Liège")
    shared = _ask(session, "quand se termine le vote a liege ?")
    assert "Plusieurs appels" in shared.text
    rules = _ask(session, "quelles sont les regles ?")
    assert rules.intent == "rules" and "Plusieurs appels" in rules.text


def test_supports_left_in_each_open_call_or_in_the_one_named(session: Session) -> None:
    green = make_call(session, phase="voting", title="Liège en vert", votes_per_citizen=5)
    make_call(session, phase="voting", title="Budget participatif 2027", votes_per_citizen=3)
    citizen = make_user(session)
    idea = make_idea(session, green)
    session.add(Vote(user_id=citizen.id, idea_id=idea.id, call_id=green.id))  # type: ignore[arg-type]
    session.flush()
    each = _ask(session, "il me reste combien de votes ?", citizen)
    labels = _labels(each)
    assert "Liège en vert : 4 sur 5 restants" in labels.replace("\u202f", " "), labels
    assert "Budget participatif 2027" in labels
    named = _ask(session, "il me reste combien de votes pour le budget participatif ?", citizen)
    assert "Budget participatif 2027" in named.text and "3" in named.text and not named.items


def test_a_word_of_a_calls_title_alone_does_not_turn_a_question_into_its_dates(session: Session) -> None:
    make_call(session, phase="voting", title="Parcs de Liège")
    answer = _ask(session, "quand passent les poubelles a liege ?")
    assert answer.intent is None
    assert _ask(session, "les dates des parcs de liege").intent == "phases"
