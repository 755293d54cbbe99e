"""A card's excerpt is computed when the idea's text is written and read as it is stored: a
list of ideas renders no Markdown (issue 14); ideas written before migration 0029 got theirs."""

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from app import migrate, richtext
from app.idea.models import CARD_EXCERPT, Idea, card_excerpt
from tests.factories import make_call, make_idea, make_user
from tests.notify.test_preference_migration import _filler
from tests.support import WebClient

LONG = ("Installer des **bancs** à l’ombre &amp; des fontaines le long de la Dérivation, "
        "entre le pont Atlas et le pont de Fragnée, pour que les personnes âgées puissent s’y "
        "reposer en été ; le quartier manque de lieux où s’asseoir sans consommer. " * 3)


def test_the_excerpt_follows_the_body_through_the_form_and_an_edit(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    answer = client.submit(f"/calls/{call.slug}/ideas/new", {
        "title": "Des bancs le long de la Dérivation", "body_md": LONG, "action": "submit"})
    assert answer.status_code == 303, answer.text[:300]
    idea = session.exec(sa.select(Idea).where(Idea.title == "Des bancs le long de la Dérivation")).scalar_one()
    assert idea.excerpt.startswith("Installer des bancs à l’ombre & des fontaines")  # text, not Markdown
    assert len(idea.excerpt) <= CARD_EXCERPT and idea.excerpt.endswith("…")
    assert "**" not in idea.excerpt and "<" not in idea.excerpt

    client.cookies.clear()
    client.login_as(author)
    answer = client.submit(f"/ideas/{idea.id}/edit", {
        "title": idea.title, "body_md": "Des bancs *partout* sur les quais, avec une fontaine tous les 500 mètres.",
    })
    assert answer.status_code == 303
    session.refresh(idea)
    assert idea.excerpt == "Des bancs partout sur les quais, avec une fontaine tous les 500 mètres."


def test_a_list_of_ideas_renders_no_markdown(client: WebClient, session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    call = make_call(session)
    for n in range(12):
        make_idea(session, call, title=f"Une idée de quartier {n}", body=f"Le texte **{n}** de l’idée, sur les quais.")
    session.commit()

    def refuse(_source: str) -> str:
        raise AssertionError("a list rendered Markdown")

    monkeypatch.setattr(richtext._markdown, "render", refuse)
    page = client.get(f"/calls/{call.slug}")
    assert page.status_code == 200
    assert page.text.count("de l’idée, sur les quais.") == 12 and "**" not in page.text
    for other in ("/", "/search?q=quais"):
        assert client.get(other).status_code == 200, other


def test_ideas_written_before_the_migration_get_their_excerpt(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0028")
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        meta = sa.MetaData()
        calls, ideas = (sa.Table(name, meta, autoload_with=conn) for name in ("call", "idea"))
        row = {c.name: _filler(c, 1) for c in calls.columns if not c.nullable and not c.primary_key
               and c.server_default is None}
        call_id = conn.execute(calls.insert().values(**{**row, "slug": "appel"})).inserted_primary_key[0]  # type: ignore[index]
        row = {c.name: _filler(c, 1) for c in ideas.columns if not c.nullable and not c.primary_key
               and c.server_default is None}
        conn.execute(ideas.insert().values(**{**row, "call_id": call_id, "title": "Des bancs",
                                              "body_html": richtext.render_markdown(LONG)}))
    engine.dispose()
    migrate.upgrade(empty_database, "0029")
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT excerpt FROM idea")).scalar_one()
    engine.dispose()
    assert stored == card_excerpt(richtext.render_markdown(LONG)) and stored.startswith("Installer des bancs à")
    command.downgrade(migrate.alembic_config(empty_database), "0028")
