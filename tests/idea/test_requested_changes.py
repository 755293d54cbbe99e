"""The moderators' request for changes is where the author edits (issue 15): at the top of the
idea page and of the edit form, the latest request only, for the author's eyes only."""

from sqlmodel import Session

from tests.moderation.helpers import world
from tests.support import WebClient


def _box(html: str) -> str | None:
    if 'class="notice requested-changes"' not in html:
        return None
    box = html[html.index('class="notice requested-changes"'):]
    return " ".join(box[:box.index("</section>")].split())


def test_the_author_reads_the_latest_request_where_they_edit(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    for message in ("Précisez le parc.", "Précisez l'emplacement exact <b>près du kiosque</b>."):
        assert client.submit(f"/moderation/ideas/{w.idea.id}/request-changes", {"message": message}).status_code == 303
        session.expire_all()
        if message.startswith("Précisez le parc"):  # back from the author, then a second request
            w.idea.status = "submitted"
            session.add(w.idea)
            session.commit()

    client.cookies.clear()
    client.login_as(w.author)
    for path in (f"/ideas/{w.idea.id}", f"/ideas/{w.idea.id}/edit"):
        box = _box(client.get(path).text)
        assert box is not None, path
        assert "L’équipe de modération demande des modifications" in box
        assert "Précisez l&#39;emplacement exact &lt;b&gt;près du kiosque&lt;/b&gt;." in box  # escaped
        assert "Précisez le parc." not in box  # only the latest request

    client.cookies.clear()
    client.login_as(w.citizen)  # the idea is not public while changes are requested
    assert client.get(f"/ideas/{w.idea.id}").status_code == 404
    client.cookies.clear()
    client.login_as(w.moderator)
    assert _box(client.get(f"/ideas/{w.idea.id}").text) is None  # the moderation page has it in the history


def test_no_box_once_the_idea_is_submitted_again(client: WebClient, session: Session) -> None:
    w = world(session)
    client.login_as(w.moderator)
    client.submit(f"/moderation/ideas/{w.idea.id}/request-changes", {"message": "Ajoutez une photo."})
    session.expire_all()
    w.idea.status = "submitted"
    session.add(w.idea)
    session.commit()
    client.cookies.clear()
    client.login_as(w.author)
    assert _box(client.get(f"/ideas/{w.idea.id}").text) is None
