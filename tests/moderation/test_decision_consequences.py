"""An irreversible decision names its consequences where it is taken (issue 15): rejecting a
published idea says how many supports stop counting."""

from sqlmodel import Session

from tests.moderation.helpers import world
from tests.support import WebClient


def test_the_reject_form_names_the_supports_lost(client: WebClient, session: Session) -> None:
    w = world(session, phase="voting", status="published")
    w.idea.vote_count = 12
    session.add(w.idea)
    session.commit()
    client.login_as(w.moderator)
    text = " ".join(client.get(f"/moderation/ideas/{w.idea.id}").text.split())
    assert "12 personnes soutiennent cette idée : leurs soutiens ne compteront plus." in text
    assert "le refus reste dans l’historique public de l’idée : il est définitif" in text


def test_a_pending_idea_has_no_supports_to_mention(client: WebClient, session: Session) -> None:
    w = world(session, phase="submissions", status="submitted")
    session.commit()
    client.login_as(w.moderator)
    text = " ".join(client.get(f"/moderation/ideas/{w.idea.id}").text.split())
    assert "soutiennent cette idée" not in text and "il est définitif" in text
