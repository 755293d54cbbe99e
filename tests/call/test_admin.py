"""The administration of calls, themes and districts, through its forms."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from app.account.models import Role
from app.call.models import Call, Category, District, Phase
from app.call.phases import current_phase
from tests.factories import make_call, make_category, make_district, make_user
from tests.idea.helpers import png
from tests.support import WebClient

FORM = {
    "title": "Liège 2030", "slug": "liege-2030", "summary": "Vos idées pour 2030.",
    "description_md": "**Bienvenue** <script>alert(1)</script>",
    "submissions_start": "2026-03-01T09:00", "voting_start": "2026-04-01T09:00", "review_start": "",
    "results_start": "", "closes_at": "2026-12-31T18:00", "phase_override": "",
    "ideas_per_citizen": "3", "votes_per_citizen": "3", "vote_scope": "category", "report_threshold": "4",
    "premoderation": "1", "comments_during_voting": "1",
}


def test_admin_creates_a_call_through_the_form(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    assert client.get("/admin").status_code == 200
    assert "Appels à projets" in client.get("/admin").text
    assert client.get("/admin/calls/new").status_code == 200
    response = client.submit("/admin/calls/new", FORM, files={"cover": ("cover.png", png(300, 160), "image/png")})
    assert response.status_code == 303
    call = session.exec(select(Call)).one()
    assert response.headers["location"] == f"/admin/calls/{call.id}"
    assert (call.slug, call.title, call.ideas_per_citizen, call.votes_per_citizen, call.vote_scope) == (
        "liege-2030", "Liège 2030", 3, 3, "category")
    assert call.premoderation and call.comments_during_voting and not call.comments_during_submissions
    assert call.submissions_start == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 9:00 in Brussels (winter)
    assert call.review_start is None
    assert call.description_html == "<p><strong>Bienvenue</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    assert call.cover_id is not None
    cover = client.get(f"/calls/{call.slug}/cover/display")
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/jpeg"
    assert "Liège 2030" in client.get("/admin/calls").text


def test_invalid_call_form_keeps_values_and_writes_nothing(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    make_call(session, slug="pris")
    session.commit()
    client.login_as(admin)
    bad = {**FORM, "slug": "pris", "title": "x", "voting_start": "2026-01-01T00:00", "ideas_per_citizen": "0",
           "closes_at": "pas une date", "vote_scope": "galaxy", "phase_override": "eternal"}
    response = client.submit("/admin/calls/new", bad)
    assert response.status_code == 422
    for message in ("Un autre appel utilise déjà cette adresse.", "Le titre doit compter entre 3 et 160 caractères.",
                    "Les dates des phases doivent se suivre dans l’ordre.", "Indiquez une date et une heure.",
                    "Indiquez un nombre entier entre 1 et 1000."):
        assert message.replace("’", "&#39;") in response.text or message in response.text, message
    assert 'value="Vos idées pour 2030."' not in response.text  # the summary is a textarea
    assert "Vos idées pour 2030." in response.text
    assert len(session.exec(select(Call)).all()) == 1


def test_admin_edits_phases_by_hand_and_manages_themes(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    call = make_call(session, phase=Phase.submissions)
    session.commit()
    client.login_as(admin)
    form = {**FORM, "slug": call.slug, "submissions_start": "", "voting_start": "", "closes_at": "",
            "phase_override": "results"}
    assert client.submit(f"/admin/calls/{call.id}", form).status_code == 303
    session.expire_all()
    assert current_phase(session.get(Call, call.id)) == Phase.results  # type: ignore[arg-type]
    assert client.submit(f"/admin/calls/{call.id}/categories", {"category_name": "Transition énergétique"}
                         ).status_code == 303
    theme = session.exec(select(Category)).one()
    assert (theme.slug, theme.name, theme.call_id) == ("transition-energetique", "Transition énergétique", call.id)
    duplicate = client.submit(f"/admin/calls/{call.id}/categories", {"category_name": "Transition énergétique"})
    assert duplicate.status_code == 422 and "Un autre thème de cet appel" in duplicate.text
    assert client.submit(f"/admin/calls/{call.id}/categories/{theme.id}",
                         {"name": "Énergie", "slug": "energie", "position": "2"}).status_code == 303
    session.expire_all()
    assert session.get(Category, theme.id).name == "Énergie"  # type: ignore[union-attr]
    assert client.submit(f"/admin/calls/{call.id}/categories/{theme.id}", {"delete": "1"}).status_code == 303
    assert session.exec(select(Category)).all() == []
    # A theme of another call cannot be edited through this one.
    session.expunge_all()  # SQLite may reuse the deleted theme's id
    other = make_call(session)
    foreign = make_category(session, other)
    session.commit()
    assert client.submit(f"/admin/calls/{call.id}/categories/{foreign.id}", {"delete": "1"}).status_code == 404


def test_admin_manages_districts(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    existing = make_district(session, name="Jupille")
    session.commit()
    client.login_as(admin)
    assert client.submit("/admin/districts", {"name": "Sainte-Walburge"}).status_code == 303
    assert session.exec(select(District).where(District.slug == "sainte-walburge")).one().name == "Sainte-Walburge"
    clash = client.submit("/admin/districts", {"name": "Jupille bis", "slug": existing.slug})
    assert clash.status_code == 422 and "Un autre quartier utilise déjà cette adresse." in clash.text
    assert client.submit(f"/admin/districts/{existing.id}", {"name": "Jupille-sur-Meuse", "slug": "jupille"}
                         ).status_code == 303
    assert client.submit(f"/admin/districts/{existing.id}", {"delete": "1"}).status_code == 303
    session.expire_all()
    assert [d.name for d in session.exec(select(District)).all()] == ["Sainte-Walburge"]


def test_only_administrators_reach_the_administration(client: WebClient, session: Session) -> None:
    citizen = make_user(session)
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    session.commit()
    urls = ["/admin", "/admin/calls", "/admin/calls/new", f"/admin/calls/{call.id}", "/admin/districts"]
    for url in urls:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    for user in (citizen, moderator):
        client.login_as(user)
        for url in urls:
            assert client.get(url).status_code == 403, url
        assert client.submit("/admin/calls/new", FORM).status_code == 403
        assert client.submit("/admin/districts", {"name": "Pirate"}).status_code == 403
    assert len(session.exec(select(Call)).all()) == 1
    assert session.exec(select(District)).all() == []


def test_refused_cover_keeps_the_call_form(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    response = client.submit("/admin/calls/new", FORM,
                             files={"cover": ("cover.jpg", b"<svg onload=alert(1)></svg>", "image/jpeg")})
    assert response.status_code == 422
    assert "pas une photo dans un format accepté" in response.text
    assert 'value="Liège 2030"' in response.text and 'value="liege-2030"' in response.text
    assert session.exec(select(Call)).all() == []
