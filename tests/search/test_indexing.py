"""The index follows every change of an idea through the outbox: nothing is indexed before the
worker runs, and after it runs the index holds exactly the public ideas, whatever the path that
changed them (the author's form, a moderator's decision, a ban, reports)."""

import sqlalchemy as sa
from sqlmodel import Session

from app.account.models import Role
from app.idea.models import IdeaStatus
from app.outbox.models import OutboxMessage
from app.search import indexing
from app.search.backend import SearchQuery
from app.search.engines import backend_for
from app.search.queue import REINDEX_KIND
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.search.test_contract import _indexed
from tests.support import WebClient

BODY = "Des arbres fruitiers dans chaque square, entretenus par les habitants du quartier."


def _found(session: Session, words: str) -> list[str]:
    session.expire_all()
    return [h.idea.title for h in backend_for(session).search(session, SearchQuery(text=words)).hits]


def _in_index(session: Session, idea_id: int | None) -> bool:
    session.expire_all()
    column = "rowid" if session.get_bind().dialect.name == "sqlite" else "idea_id"
    found = session.execute(sa.text(f"SELECT 1 FROM idea_search WHERE {column} = :id"),  # noqa: S608 - a column name
                            {"id": idea_id}).first() is not None
    if column == "rowid":  # SQLite keeps the titles apart too (migration 0019), in step
        titled = session.execute(sa.text("SELECT 1 FROM idea_search_title WHERE rowid = :id"), {"id": idea_id})
        assert (titled.first() is not None) == found
    return found


def _queued(session: Session) -> int:
    session.expire_all()
    return len([m for m in session.exec(sa.select(OutboxMessage)).scalars() if m.kind == REINDEX_KIND])  # type: ignore[call-overload]


def test_a_published_idea_is_found_once_the_worker_ran_and_its_edit_too(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new",
                             {"title": "Vergers partagés", "body_md": BODY, "action": "submit"})
    assert response.status_code == 303
    assert _queued(session) >= 1 and _indexed(session) == 0  # queued in the same transaction, not done yet
    client.run_worker()
    assert _found(session, "vergers") == ["Vergers partagés"]
    assert _found(session, "fruitiers") == ["Vergers partagés"]

    idea_id = int(response.headers["location"].rstrip("/").split("/")[-1])
    assert client.submit(f"/ideas/{idea_id}/edit", {"title": "Potagers partagés", "body_md": BODY}).status_code == 303
    client.run_worker()
    assert _found(session, "potagers") == ["Potagers partagés"]
    assert _found(session, "vergers") == []


def test_an_idea_moved_to_another_theme_and_district_is_found_under_them_once_the_worker_ran(
        client: WebClient, session: Session) -> None:
    # The database backends keep an idea's call, theme and district as tokens of the index
    # (migration 0021): the edit's reindexing moves them with it.
    call = make_call(session)
    trees, water = make_category(session, call, name="Arbres"), make_category(session, call, name="Eau")
    north, south = make_district(session, name="Nord"), make_district(session, name="Sud")
    author = make_user(session)
    session.commit()
    client.login_as(author)
    response = client.submit(f"/calls/{call.slug}/ideas/new", {
        "title": "Vergers partagés", "body_md": BODY, "category_id": str(trees.id), "district_id": str(north.id),
        "action": "submit"})
    assert response.status_code == 303
    client.run_worker()

    def found(**filters: int | None) -> list[str]:
        session.expire_all()
        query = SearchQuery(text="vergers", call_id=call.id, **filters)
        return [h.idea.title for h in backend_for(session).search(session, query).hits]

    assert found(category_id=trees.id, district_id=north.id) == ["Vergers partagés"]
    idea_id = int(response.headers["location"].rstrip("/").split("/")[-1])
    assert client.submit(f"/ideas/{idea_id}/edit", {"title": "Vergers partagés", "body_md": BODY,
                                                    "category_id": str(water.id),
                                                    "district_id": str(south.id)}).status_code == 303
    assert found(category_id=water.id) == []  # the index has not followed yet, and shows nothing wrong
    assert found(category_id=trees.id) == []
    client.run_worker()
    assert found(category_id=water.id, district_id=south.id) == ["Vergers partagés"]
    assert found(category_id=water.id) == found(district_id=south.id) == ["Vergers partagés"]
    assert found(category_id=trees.id) == found(district_id=north.id) == []


def test_a_draft_is_not_indexed_and_a_withdrawn_idea_leaves_the_index(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    client.submit(f"/calls/{call.slug}/ideas/new", {"title": "Brouillon de jardin", "body_md": BODY, "action": "draft"})
    idea = make_idea(session, call, author, title="Jardin public")
    session.commit()
    indexing.rebuild(session)
    session.commit()
    assert _found(session, "jardin") == ["Jardin public"]
    assert client.submit(f"/ideas/{idea.id}/withdraw", {"confirm": "yes"}).status_code == 303
    assert _in_index(session, idea.id)  # until the worker runs; searches already leave it out
    assert _found(session, "jardin") == []
    client.run_worker()
    assert not _in_index(session, idea.id) and _indexed(session) == 0


def test_hiding_removes_the_idea_and_restoring_brings_it_back(client: WebClient, session: Session) -> None:
    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, title="Nichoirs à martinets")
    session.commit()
    indexing.rebuild(session)
    session.commit()
    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Publicité"}).status_code == 303
    assert client.run_worker() >= 1
    assert not _in_index(session, idea.id) and _found(session, "martinets") == []
    assert client.submit(f"/moderation/ideas/{idea.id}/restore").status_code == 303
    client.run_worker()
    assert _in_index(session, idea.id) and _found(session, "martinets") == ["Nichoirs à martinets"]


def test_approving_and_merging_follow_the_moderators(client: WebClient, session: Session) -> None:
    call = make_call(session, premoderation=True)
    moderator = make_user(session, role=Role.moderator)
    pending = make_idea(session, call, title="Fontaine rue Léopold", status=IdeaStatus.submitted)
    keep = make_idea(session, call, title="Fontaines place Saint-Lambert")
    session.commit()
    indexing.rebuild(session)
    session.commit()
    assert _found(session, "fontaine") == ["Fontaines place Saint-Lambert"]
    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{pending.id}/approve").status_code == 303
    client.run_worker()
    assert sorted(_found(session, "fontaine")) == ["Fontaine rue Léopold", "Fontaines place Saint-Lambert"]
    assert client.submit(f"/moderation/ideas/{pending.id}/merge", {"target_id": str(keep.id)}).status_code == 303
    client.run_worker()
    assert not _in_index(session, pending.id) and _found(session, "fontaine") == ["Fontaines place Saint-Lambert"]


def test_a_ban_that_hides_content_and_reports_that_hide_an_idea_remove_them(client: WebClient,
                                                                          session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=1)
    moderator = make_user(session, role=Role.moderator)
    author = make_user(session)
    banned = make_idea(session, call, author, title="Ruches sur les toits")
    reported = make_idea(session, call, title="Ruches au parc")
    reporter = make_user(session)
    session.commit()
    indexing.rebuild(session)
    session.commit()
    client.login_as(reporter)
    assert client.submit(f"/ideas/{reported.id}/report", {"reason": "spam", "details": ""}).status_code == 303
    client.login_as(moderator)
    assert client.submit(f"/moderation/users/{author.id}/ban",
                         {"reason": "Messages injurieux.", "confirm": "yes", "hide_content": "1"}).status_code == 303
    client.run_worker()
    assert not _in_index(session, banned.id) and not _in_index(session, reported.id)
    assert _indexed(session) == 0


def test_the_reindex_command_rebuilds_the_index(session: Session, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.core.test_cli import cli_env, run_cli

    call = make_call(session)
    make_idea(session, call, title="Composteurs de quartier")
    make_idea(session, call, title="Composteurs cachés", status=IdeaStatus.rejected)
    session.commit()
    done = run_cli(["reindex"], cli_env(tmp_path, database_url))
    assert done.returncode == 0, done.stderr
    assert "1 public ideas" in done.stdout
    assert _found(session, "composteurs") == ["Composteurs de quartier"] and _indexed(session) == 1


def test_an_erased_author_s_public_ideas_stay_found_and_their_draft_is_gone(client: WebClient,
                                                                           session: Session) -> None:
    from app.account import privacy
    from tests.factories import DEFAULT_PASSWORD

    call = make_call(session)
    author = make_user(session)
    kept = make_idea(session, call, author, title="Boîtes à livres")
    make_idea(session, call, author, title="Boîtes à graines", status=IdeaStatus.draft)
    session.commit()
    indexing.rebuild(session)
    session.commit()
    with client.db.transaction() as s:
        person = s.get(type(author), author.id)
        assert person is not None
        privacy.delete_account(s, client.settings, person, password=DEFAULT_PASSWORD)
    assert _queued(session) >= 1
    client.run_worker()
    assert _found(session, "boites") == ["Boîtes à livres"] and _in_index(session, kept.id)
