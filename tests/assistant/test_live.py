"""Live data: the asker's own supports left, their ideas, their refused idea's reason; and no
leak of another person's idea that is not public, whatever the way it is named."""

from sqlmodel import Session

from app import links
from app.account.models import Role
from app.assistant import answering
from app.i18n import language
from app.idea.models import IdeaStatusChange
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient


def _ask(client: WebClient, question: str) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/assistant", json={"question": question}, headers={"X-CSRF-Token": client.csrf()})
    assert response.status_code == 200, response.text
    return response.json()


def _vote(session: Session, user_id: int, idea) -> None:  # type: ignore[no-untyped-def]
    session.add(Vote(user_id=user_id, idea_id=idea.id, call_id=idea.call_id))
    idea.vote_count += 1
    session.add(idea)
    session.flush()


def test_supports_left_is_the_askers_real_count_in_the_current_call(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", title="Liège en vert", votes_per_citizen=5)
    citizen = make_user(session)
    other = make_user(session)
    for _ in range(3):
        _vote(session, citizen.id, make_idea(session, call))  # type: ignore[arg-type]
    _vote(session, other.id, make_idea(session, call))  # type: ignore[arg-type]
    client.login_as(citizen)
    answer = _ask(client, "il me reste combien de votes ?")
    assert answer["kind"] == "live"
    assert "2" in answer["text"] and "5" in answer["text"] and "Liège en vert" in answer["text"]
    assert answer["source"]["href"] == f"/calls/{call.slug}"
    client.login_as(other)
    assert "4" in _ask(client, "il me reste combien de votes ?")["text"]


def test_supports_left_per_theme_when_the_call_counts_per_theme(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3, vote_scope="category")
    green, _roads = make_category(session, call, name="Verdure"), make_category(session, call, name="Voiries")
    citizen = make_user(session)
    _vote(session, citizen.id, make_idea(session, call, category=green))  # type: ignore[arg-type]
    client.login_as(citizen)
    labels = [item["label"] for item in _ask(client, "how many votes do I have left")["items"]]
    assert any("Verdure" in label and "2" in label for label in labels)
    assert any("Voiries" in label and "3" in label for label in labels)


def test_a_visitor_is_asked_to_log_in_for_personal_answers(client: WebClient, session: Session) -> None:
    make_call(session, phase="voting")
    answer = _ask(client, "il me reste combien de votes ?")
    assert answer["source"]["href"].startswith(links.path("account:login"))
    assert "left" not in answer["text"] or "Log in" in answer["text"]


def _rejected(session: Session, call, author, reason: str, title: str):  # type: ignore[no-untyped-def]
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, author, status="rejected", title=title)
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=moderator.id, from_status="submitted",
                                 to_status="rejected", note=reason))
    session.flush()
    return idea


def test_why_my_idea_was_refused_gives_the_authors_own_reason(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    _rejected(session, call, author, "Ce terrain n'appartient pas à la ville.", "Un skatepark au parc")
    client.login_as(author)
    answer = _ask(client, "pourquoi mon idée a été refusée ?")
    text = " ".join([answer["text"], *(i["label"] for i in answer["items"])])
    assert "Ce terrain n'appartient pas à la ville." in text and "Un skatepark au parc" in text


def test_someone_elses_idea_that_is_not_public_never_leaks(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    hidden = _rejected(session, call, author, "Raison très privée", "Titre confidentiel")
    draft = make_idea(session, call, author, status="draft", title="Brouillon secret")
    stranger = make_user(session)
    client.login_as(stranger)
    for question in (f"pourquoi l'idée {hidden.id} a été refusée ?", f"why was idea #{hidden.id} rejected",
                     f"pourquoi /ideas/{draft.id} refusée", "pourquoi mon idée a été refusée ?",
                     "quel est le statut de mes idées"):
        answer = _ask(client, question)
        blob = repr(answer)
        for secret in ("Raison très privée", "Titre confidentiel", "Brouillon secret", f"/ideas/{hidden.id}",
                       f"/ideas/{draft.id}"):
            assert secret not in blob, (question, answer)
    # The same refusal for an idea that does not exist: existence is not revealed either.
    missing = _ask(client, "pourquoi l'idée 999999 a été refusée ?")
    named = _ask(client, f"pourquoi l'idée {hidden.id} a été refusée ?")
    assert missing["text"] == named["text"]


def test_my_ideas_and_their_status_in_the_askers_language(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session, language="en")
    make_idea(session, call, author, title="More benches", status="published")
    make_idea(session, call, author, title="A fountain", status="submitted")
    make_idea(session, call, title="Not mine at all")
    client.login_as(author)
    client.cookies.set("rv_lang", "en")
    answer = _ask(client, "what is the status of my ideas")
    labels = " ".join(i["label"] for i in answer["items"])
    assert "More benches" in labels and "A fountain" in labels and "Not mine at all" not in labels
    assert "waiting for moderation" in labels


def test_phases_answer_in_the_interface_language(session: Session) -> None:
    make_call(session, phase="voting", title="Quartiers")
    with language("nl"):
        answer = answering.understand(session, user=None, text="wanneer eindigt de stemming", language="nl")
    assert answer.intent == "phases" and "Quartiers" in answer.text and "eindigt" in answer.text


def test_the_phases_list_is_wholly_in_the_interface_language(session: Session) -> None:
    """Review finding: the current phase was marked "(now)" in every language (the words were
    inside an f-string, out of the translation catalogue's reach)."""
    make_call(session, phase="voting", title="Quartiers")
    for lang, current in (("fr", "(en cours)"), ("nl", "(nu)"), ("de", "(jetzt)")):
        with language(lang):
            answer = answering.understand(session, user=None, text="quand se termine le vote", language=lang)
        labels = " ".join(item.label for item in answer.items)
        assert current in labels and "(now)" not in labels, (lang, labels)


def test_where_are_my_ideas_in_short_words_lists_the_askers_ideas(client: WebClient, session: Session) -> None:
    """Review finding: « où en sont mes idées ? » and « mes idées » got an unrelated entry with
    confidence instead of the asker's ideas."""
    call = make_call(session)
    author = make_user(session)
    make_idea(session, call, author, title="Des bancs place Cathédrale", status="published")
    client.login_as(author)
    for question in ("où en sont mes idées ?", "ou sont mes idees", "mes idées", "mijn ideeën", "meine Ideen",
                     "where are my ideas"):
        answer = _ask(client, question)
        assert answer["kind"] == "live", question
        assert any("Des bancs place Cathédrale" in item["label"] for item in answer["items"]), question


def test_proposing_an_idea_in_few_words_is_not_taken_for_the_askers_ideas(session: Session) -> None:
    """The short « mes idées » rule must not swallow a how-to question of three words."""
    make_call(session)
    for question in ("proposer mon idée", "déposer une idée"):
        assert answering.understand(session, user=None, text=question, language="fr").intent != "my_ideas"


def test_time_left_to_vote_is_the_calls_dates_not_the_supports_left(session: Session) -> None:
    """Review finding: « il reste combien de temps pour voter » got the supports left."""
    make_call(session, phase="voting")
    for lang, question in (("fr", "il reste combien de temps pour voter"), ("en", "how long do I have to vote"),
                           ("nl", "hoe lang kan ik nog stemmen"), ("de", "wie lange kann ich noch abstimmen")):
        assert answering.understand(session, user=None, text=question, language=lang).intent == "phases", question


def test_how_many_people_voted_is_not_answered_with_the_askers_supports(session: Session) -> None:
    """Review finding: « combien de personnes ont voté » got « Il vous reste 6 soutiens »."""
    make_call(session, phase="voting")
    for lang, question in (("fr", "combien de personnes ont voté"), ("en", "how many people voted"),
                           ("nl", "hoeveel mensen hebben gestemd"), ("de", "wie viele Leute haben abgestimmt")):
        assert answering.understand(session, user=None, text=question, language=lang).intent != "supports_left", \
            question


def test_supports_my_idea_has_are_its_count_not_the_askers_supports_left(client: WebClient,
                                                                         session: Session) -> None:
    """Review finding: « combien de votes a mon idée » got the asker's own supports left."""
    call = make_call(session, phase="voting")
    author = make_user(session)
    idea = make_idea(session, call, author, title="Un kiosque à Cointe", status="published")
    for _ in range(3):
        _vote(session, make_user(session).id, idea)  # type: ignore[arg-type]
    client.login_as(author)
    for question in ("combien de votes a mon idée", "how many votes does my idea have",
                     "hoeveel stemmen heeft mijn idee", "wie viele Stimmen hat meine Idee"):
        answer = _ask(client, question)
        assert answer["kind"] == "live" and "Il vous reste" not in answer["text"], question
        assert any("Un kiosque à Cointe" in i["label"] and "3 soutiens" in i["label"] for i in answer["items"]), \
            (question, answer)


def test_what_happens_to_my_idea_or_was_it_accepted_lists_the_askers_ideas(client: WebClient,
                                                                            session: Session) -> None:
    """Review finding: « wat gebeurt er met mijn idee » got « Waarvoor dient dit platform? »."""
    call = make_call(session)
    author = make_user(session)
    make_idea(session, call, author, title="Een fietsenstalling", status="published")
    client.login_as(author)
    for question in ("wat gebeurt er met mijn idee", "mon idée a été acceptée ?", "is my idea accepted"):
        answer = _ask(client, question)
        assert any("Een fietsenstalling" in item["label"] for item in answer["items"]), (question, answer)


def test_another_persons_idea_named_by_its_title_is_not_answered_with_ones_own(client: WebClient,
                                                                               session: Session) -> None:
    """Review finding: « pourquoi l'idée « <someone else's title> » a été refusée » was answered
    « Voici ce que je sais de votre idée » about the asker's own refused idea."""
    call = make_call(session)
    asker, other = make_user(session), make_user(session)
    _rejected(session, call, asker, "Hors du périmètre de l'appel.", "Un kiosque place Cockerill")
    _rejected(session, call, other, "Raison d'autrui", "Une tyrolienne sur la Meuse")
    client.login_as(asker)
    answer = _ask(client, "pourquoi l'idée « Une tyrolienne sur la Meuse » a été refusée ?")
    blob = repr(answer)
    assert "Un kiosque place Cockerill" not in blob and "Raison d'autrui" not in blob, answer
    assert answer["text"] == _ask(client, "pourquoi l'idée 999999 a été refusée ?")["text"]
    own = _ask(client, "pourquoi mon idée \"un kiosque place cockerill\" a été refusée")
    assert "Hors du périmètre de l'appel." in repr(own)


def test_supports_left_says_when_only_verified_residents_may_support(client: WebClient, session: Session) -> None:
    """Review finding: in a call for verified residents, a person who is not one was told « Il
    vous reste 10 soutiens » with nothing about needing to be verified first."""
    call = make_call(session, phase="voting")
    call.vote_access = "residents"
    session.add(call)
    session.flush()
    client.login_as(make_user(session))
    answer = _ask(client, "il me reste combien de votes ?")
    assert "résidents vérifiés" in answer["text"], answer
    call.vote_access = "email"
    session.add(call)
    session.flush()
    assert "résidents vérifiés" not in _ask(client, "il me reste combien de votes ?")["text"]


def test_colloquial_english_is_not_taken_for_another_question(session: Session) -> None:
    """Review findings: « whens the vote over » got the supports left (Dutch « over » means
    « left »); « what's the status of my proposal » got « How do I propose an idea? »."""
    make_call(session, phase="voting")
    user = make_user(session)
    for question, intent in (("whens the vote over", "phases"), ("when is voting over", "phases"),
                             ("what's the status of my proposal", "my_ideas"), ("my proposals", "my_ideas")):
        assert answering.understand(session, user=user, text=question, language="en").intent == intent, question
