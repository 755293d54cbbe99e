"""The public history of an idea says what happened on each line (issue 10, defect 14): a first
official answer once read "Created — Moderation team", because a line with no previous status
was taken for the idea's creation."""

import re

from sqlmodel import Session, select

from app.account.models import Role
from app.idea.models import Idea
from tests.factories import make_call, make_user
from tests.support import WebClient

BODY = "Des bancs à l'ombre le long de la Meuse, pour les personnes âgées et les familles."


def _history_lines(html: str, title_id: str = "history-title") -> list[str]:
    section = html[html.index(f'id="{title_id}"'):]
    section = section[:section.index("</ol>")]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_every_line_of_the_history_is_labelled_by_what_happened(client: WebClient, session: Session) -> None:
    call = make_call(session, premoderation=True)
    author = make_user(session, display_name="Sofia Ricci")
    moderator = make_user(session, role=Role.moderator, display_name="Équipe modération")
    session.commit()

    client.login_as(author)
    assert client.submit(f"/calls/{call.slug}/ideas/new",
                         {"title": "Des bancs au bord de la Meuse", "body_md": BODY, "action": "submit"}
                         ).status_code == 303
    idea = session.exec(select(Idea)).one()
    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/request-changes",
                         {"message": "Où exactement ?"}).status_code == 303
    client.login_as(author)
    assert client.submit(f"/ideas/{idea.id}/submit").status_code == 303
    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/approve").status_code == 303
    for status in ("under_study", "accepted"):
        assert client.submit(f"/moderation/ideas/{idea.id}/answer",
                             {"answer_status": status, "answer_md": "Nous étudions la question."}).status_code == 303
    assert client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Vérification"}).status_code == 303
    assert client.submit(f"/moderation/ideas/{idea.id}/restore", {"reason": ""}).status_code == 303
    client.login_as(author)
    assert client.submit(f"/ideas/{idea.id}/withdraw", {"confirm": "yes"}).status_code == 303

    lines = _history_lines(client.get(f"/ideas/{idea.id}").text)
    labels = [re.sub(r"^.*?: ", "", line, count=1).split(" — ")[0] for line in lines]
    assert labels == [
        "Créée",
        "Soumise à la modération",
        "Modifications demandées",
        "Soumise à nouveau après les modifications demandées",
        "Publiée",
        "Réponse officielle",
        "Réponse officielle modifiée",
        "Masquée par la modération",
        "À nouveau visible",
        "Retirée par son auteur ou autrice",
    ], lines
    # Who did it stays on each line: the answer is the moderators', the creation the author's.
    assert lines[0].endswith("Créée — Sofia Ricci")
    assert "Réponse officielle — Équipe modération" in lines[5]
    assert sum("Créée" in line for line in lines) == 1

    client.login_as(moderator)
    staff_lines = _history_lines(client.get(f"/moderation/ideas/{idea.id}").text)
    assert [line.split(" : ", 1)[1] for line in staff_lines] == [
        "Créée", "Soumise à la modération", "Modifications demandées: Où exactement ?",
        "Soumise à nouveau après les modifications demandées", "Publiée", "Réponse officielle: À l’étude",
        "Réponse officielle modifiée: Acceptée", "Masquée par la modération: Vérification", "À nouveau visible",
        "Retirée par son auteur ou autrice",
    ]
