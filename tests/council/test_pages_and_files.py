"""The report pages, the files and the council pack, as staff, citizens and visitors see them;
and the public figures of the open-data API."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from app.account.models import Role
from tests.council.dataset import CMD_TITLE, EVIL_TITLE, World, build
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.pages.test_home_page import counting
from tests.support import WebClient

# Nord: 4 participants, 2 ideas, 3 supports, 3 comments (counted by hand in tests.council.dataset)
NORD_ROW = ('<th scope="row">Nord</th><td data-label="Participants">4</td><td data-label="Ideas">2</td>'
            '<td data-label="Supports">3</td><td data-label="Comments">3</td>')


def _staff_urls(w: World) -> list[str]:
    base = f"/moderation/council/calls/{w.call.id}"
    return ["/moderation/council", base, f"{base}/pack.zip", f"{base}/file?name=ideas.xlsx",
            f"{base}/file?name=comments.csv"]


def test_citizens_get_403_and_visitors_log_in_on_every_staff_address(client: WebClient, session: Session) -> None:
    w = build(session)
    for url in _staff_urls(w):
        response = client.get(url, follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/account/login"), url
    client.login_as(w.eve)
    for url in _staff_urls(w):
        assert client.get(url, follow_redirects=False).status_code == 403, url


@pytest.mark.parametrize("role", [Role.moderator, Role.admin])
def test_staff_read_the_report_of_a_call(client: WebClient, session: Session, role: Role) -> None:
    w = build(session)
    client.login_as(make_user(session, role=role))
    session.commit()
    html = client.get(f"/moderation/council/calls/{w.call.id}", headers={"Accept-Language": "en"}).text
    assert "Participation report: Budget participatif" in html
    assert html.count('role="img"') == 8 and html.count("<desc id=") == 8  # one chart per breakdown
    # By age band: the verified resident (25 to 34), everyone else not known; every band listed.
    ages = html.split('id="council-age"', 1)[1].split("</section>", 1)[0]
    assert '<th scope="row">25 to 34</th>' in ages and '<th scope="row">65 and over</th>' in ages
    assert '<th scope="row">Not known</th>' in ages
    # Nord: 4 participants, 2 ideas, 3 supports, 3 comments (counted by hand in tests.council.dataset)
    assert NORD_ROW in html
    assert '<th scope="row">2026-W11</th>' in html
    assert "style=" not in html
    assert '<th scope="row">Modératrice Ana</th><td>4</td>' in html


def test_the_platform_report_lists_the_calls(client: WebClient, session: Session) -> None:
    w = build(session)
    client.login_as(w.moderator)
    html = client.get("/moderation/council", headers={"Accept-Language": "en"}).text
    assert "Participation report: all calls" in html
    assert f'href="/moderation/council/calls/{w.other.id}"' in html


def test_the_report_runs_as_many_statements_for_many_ideas_as_for_few(client: WebClient, session: Session) -> None:
    w = build(session)
    client.login_as(w.moderator)
    urls = ["/moderation/council", f"/moderation/council/calls/{w.call.id}"]
    for url in urls:
        client.get(url)  # warm caches
    few = []
    for url in urls:
        with counting(client.db.engine) as seen:
            client.get(url)
        few.append(len(seen))
    district = make_district(session)
    theme = make_category(session, w.call)
    for n in range(12):
        idea = make_idea(session, w.call, make_user(session), district=district, category=theme, title=f"Plus {n}")
        make_idea(session, make_call(session), make_user(session), title=f"Ailleurs {n}")
        del idea
    session.commit()
    client.get(urls[0])  # what pages keep while nothing is written (the city's identity) is read again once
    for url, before in zip(urls, few, strict=True):
        with counting(client.db.engine) as seen:
            client.get(url)
        # One more call is one more link on the platform page, never one more statement.
        assert len(seen) == before, url
        assert len(seen) < 40, url


def _cells(data: bytes) -> list[tuple[str, object]]:
    book = load_workbook(io.BytesIO(data))
    return [(cell.data_type, cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _no_person(text: str, w: World) -> None:
    for person in (w.eve, w.bart, w.carl, w.dina, w.anne):
        assert person.display_name not in text and person.email not in text
    assert "user_id" not in text


def test_spreadsheets_hold_no_formula_and_no_supporter(client: WebClient, session: Session) -> None:
    w = build(session)
    client.login_as(w.moderator)
    for subject in ("ideas", "supports", "comments"):
        response = client.get(f"/moderation/council/calls/{w.call.id}/file?name={subject}.xlsx")
        assert response.status_code == 200
        cells = _cells(response.content)
        assert all(kind != "f" for kind, _value in cells), subject
        values = [str(v) for _k, v in cells if v is not None]
        _no_person("\n".join(values), w)
        assert any("ne le publiez pas tel quel" in v for v in values)  # an internal document, not open data
    workbook = client.get(f"/moderation/council/calls/{w.call.id}/file?name=ideas.xlsx").content
    ideas = [str(v) for _k, v in _cells(workbook)]
    assert EVIL_TITLE in ideas and CMD_TITLE in ideas  # as typed, and never a formula (typed "s" above)
    assert "@SUM(1) Oui" in ideas  # the official answer, as typed and as text
    assert "=cmd|' /C calc'!A0" in ideas  # a note of the status history, as typed and as text


def test_csv_files_neutralise_formulas_and_count_supports(client: WebClient, session: Session) -> None:
    w = build(session)
    client.login_as(w.admin)
    base = f"/moderation/council/calls/{w.call.id}/file?name="
    ideas = list(csv.reader(io.StringIO(client.get(base + "ideas.csv").content.decode("utf-8-sig"))))
    titles = {row[1] for row in ideas[1:]}
    assert titles == {"Des pistes cyclables", "Un verger", "'" + EVIL_TITLE, "'" + CMD_TITLE}
    per_district = list(csv.reader(io.StringIO(client.get(base + "supports-per-district.csv").text.lstrip("\ufeff"))))
    assert ["Nord", "2", "3"] in per_district and ["Sud", "1", "3"] in per_district
    comments = client.get(base + "comments.csv").text
    # Public comments only: the hidden one, the deleted one, the one on a hidden idea are left out.
    assert "'-2+3 d'accord" in comments and "La ville étudie" in comments
    assert "Insulte" not in comments and "Effacé" not in comments and "Bonne idée" not in comments
    for name in ("supports-per-idea.csv", "supports-per-theme.csv", "history.csv", "comments.csv", "ideas.csv"):
        _no_person(client.get(base + name).text, w)
    assert client.get(base + "passwords.csv").status_code == 404


def test_the_council_pack_holds_the_report_and_the_files(client: WebClient, session: Session) -> None:
    w = build(session)
    client.login_as(w.moderator)
    response = client.get(f"/moderation/council/calls/{w.call.id}/pack.zip", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {
        "report.html", "README.txt", "ideas.xlsx", "supports.xlsx", "comments.xlsx", "ideas.csv", "history.csv",
        "supports-per-idea.csv", "supports-per-district.csv", "supports-per-theme.csv", "comments.csv"}
    report = archive.read("report.html").decode()
    assert "<style>" in report and "@media print" in report and "<script" not in report
    assert NORD_ROW in report
    readme = archive.read("README.txt").decode()
    assert "do not publish it as it is" in readme and f"/api/calls/{w.call.slug}/figures" in readme
    for name in archive.namelist():
        if name.endswith(".xlsx"):
            assert all(kind != "f" for kind, _v in _cells(archive.read(name)))
            _no_person("\n".join(str(v) for _k, v in _cells(archive.read(name))), w)
        elif name.endswith(".csv"):
            _no_person(archive.read(name).decode(), w)


def test_open_data_figures_count_public_ideas_only(client: WebClient, session: Session) -> None:
    w = build(session)
    data = client.get(f"/api/calls/{w.call.slug}/figures").json()
    assert data["licence"] == "CC BY 4.0" and data["licence_url"].startswith("https://creativecommons.org/")
    assert (data["ideas"], data["supports"], data["comments"], data["participants"]) == (2, 5, 2, 6)
    by_district = {d["name"]: (d["ideas"], d["supports"], d["comments"]) for d in data["by_district"]}
    assert by_district["Nord"] == (1, 2, 2) and by_district["Sud"] == (1, 3, 0)
    by_theme = {d["name"]: d["ideas"] for d in data["by_theme"]}
    assert by_theme == {"Mobilité": 1, "Nature": 1}
    assert "Eve" not in str(data)
    assert client.get("/api/calls/no-such-call/figures").status_code == 404
    assert "CC BY 4.0" in client.get("/api/docs").text


def test_administrators_find_the_report_and_the_public_csv_states_its_licence(client: WebClient,
                                                                               session: Session) -> None:
    w = build(session)
    assert 'rel="license"' in client.get(f"/calls/{w.call.slug}/ideas.csv").headers["link"]
    client.login_as(w.admin)
    assert 'href="/moderation/council"' in client.get("/admin").text


def test_files_name_statuses_and_answers_in_the_readers_language(client: WebClient, session: Session) -> None:
    """Found by review: the files said "published", "changes_requested", "under_study"."""
    w = build(session)
    client.login_as(w.admin)
    rows = list(csv.reader(io.StringIO(client.get(
        f"/moderation/council/calls/{w.call.id}/file?name=ideas.csv").content.decode("utf-8-sig"))))
    statuses = {row[2] for row in rows[1:]}
    assert "Publiée" in statuses or "Publié" in statuses or any(s.startswith("Publi") for s in statuses), statuses
    assert not statuses & {"published", "rejected", "changes_requested", "submitted", "withdrawn"}
    answers = {row[11] for row in rows[1:]} - {""}
    assert answers and not answers & {"accepted", "under_study", "rejected", "implemented", "partly_accepted"}
    history = list(csv.reader(io.StringIO(client.get(
        f"/moderation/council/calls/{w.call.id}/file?name=history.csv").content.decode("utf-8-sig"))))
    assert not {row[4] for row in history[1:]} & {"published", "rejected", "submitted"}
