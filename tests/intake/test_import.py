"""Bulk import of ideas from a spreadsheet: a preview listing every row with what is refused and
why, nothing created before the confirmation, exactly the accepted rows created then, the same
file imported twice creating nothing the second time; CSV and XLSX; formula cells kept as text;
bad files refused with a clear message and nothing written."""

import csv
import io
import os
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from app.account.models import Role
from app.audit import AuditEntry
from app.call.models import Call
from app.idea.models import Idea
from app.intake import sheets
from app.intake.models import IdeaIntake
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_user
from tests.support import WebClient

HEADER = ["titre", "idée", "thème", "quartier", "canal", "nom", "courriel"]
BODY = "Une idée recueillie à la maison de quartier, recopiée fidèlement pour la plateforme."


def _rows(call: Call, theme: str, district: str) -> list[list[str]]:
    """20 rows: 17 good ones (channels, names, anonymous), 3 refused (too short a title, an
    unknown theme, the same idea as row 2)."""
    rows = [[f"Idée de quartier numéro {n}", BODY, theme, district if n % 2 else "", "papier" if n % 3 else "téléphone",
             f"Habitant {n}" if n % 4 else "", ""] for n in range(1, 18)]
    rows.insert(3, ["abc", BODY, theme, "", "", "Trop court", ""])  # row 5: title too short
    rows.insert(6, ["Une idée au thème inconnu", BODY, "Astronomie", "", "", "", ""])  # row 8
    rows.append(list(rows[0]))  # row 21: the same as row 2
    return rows


def _csv(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ";") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def arranged(client: WebClient, session: Session) -> tuple[Call, str, str]:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    theme = make_category(session, call, name="Mobilité douce")
    district = make_district(session, name="Outremeuse")
    client.login_as(moderator)
    return call, theme.name, district.name


def _upload(client: WebClient, call_id: int, data: bytes, name: str = "idees.csv"):  # type: ignore[no-untyped-def]
    return client.post(f"/moderation/calls/{call_id}/import", data={"csrf_token": client.csrf()},
                       files={"sheet": (name, data, "application/octet-stream")})


def _confirm_form(page: str) -> tuple[str, str]:
    action = re.search(r'<form method="post" action="([^"]+)" class="import-confirm">', page)
    expected = re.search(r'name="expected" value="(\d+)"', page)
    assert action and expected
    return action.group(1), expected.group(1)


def _ideas(session: Session) -> int:
    session.expire_all()
    return len(session.exec(select(Idea)).all())


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_preview_lists_refusals_confirm_creates_17_and_a_second_import_nothing(
        client: WebClient, session: Session, arranged: tuple[Call, str, str], kind: str) -> None:
    call, theme, district = arranged
    rows = _rows(call, theme, district)
    data = _csv(rows) if kind == "csv" else _xlsx(rows)  # type: ignore[arg-type]
    preview = _upload(client, call.id, data, f"idees.{kind}")  # type: ignore[arg-type]
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "17 idées seront créées." in page and "3 lignes sont refusées." in page
    assert page.count('class="row-refused"') == 3 and page.count('class="row-ok"') == 17
    for row, reason in ((5, "entre 5 et 120 caractères"), (8, "Thème inconnu"), (21, "Même idée que la ligne 2")):
        block = page.split(f'id="row-{row}"', 1)[1].split("</tr>", 1)[0]
        assert reason in block, (row, reason)
    assert _ideas(session) == 0  # nothing before the confirmation

    action, expected = _confirm_form(page)
    done = client.submit(action, {"expected": expected})
    assert done.status_code == 303
    assert _ideas(session) == 17
    intakes = session.exec(select(IdeaIntake)).all()
    assert len(intakes) == 17 and all(i.fingerprint for i in intakes)
    assert sorted({i.channel for i in intakes}) == ["paper", "phone"]
    assert sum(1 for i in intakes if i.display_name == "") == 4  # rows without a name: anonymous
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "intake_import")).one()
    assert entry.details["created"] == 17 and entry.details["refused"] == 3

    # The same file again: every row is already imported, nothing to confirm, nothing created.
    again = _upload(client, call.id, data, f"idees.{kind}")  # type: ignore[arg-type]
    assert again.status_code == 200
    assert "Déjà importée" in again.text and 'class="import-confirm"' not in again.text
    assert again.text.count('class="row-refused"') == 20
    # The first confirmation replayed: its rows are checked again, all refused now, nothing created.
    replayed = client.submit(action, {"expected": expected})
    assert replayed.status_code == 422 and "ont changé depuis l’aperçu" in replayed.text
    assert _ideas(session) == 17


def test_confirm_checks_the_rows_again(client: WebClient, session: Session, arranged: tuple[Call, str, str]) -> None:
    call, theme, district = arranged
    data = _csv(_rows(call, theme, district))
    action, expected = _confirm_form(_upload(client, call.id, data).text)  # type: ignore[arg-type]
    # Meanwhile another import of a file holding the first row creates it.
    first = _csv(_rows(call, theme, district)[:1])
    action_first, expected_first = _confirm_form(_upload(client, call.id, first).text)  # type: ignore[arg-type]
    assert client.submit(action_first, {"expected": expected_first}).status_code == 303
    assert _ideas(session) == 1
    changed = client.submit(action, {"expected": expected})
    assert changed.status_code == 422 and "ont changé depuis l’aperçu" in changed.text
    assert _ideas(session) == 1  # no partial write
    action, expected = _confirm_form(changed.text)
    assert expected == "16"
    assert client.submit(action, {"expected": expected}).status_code == 303
    assert _ideas(session) == 17


def test_formula_cells_are_text_never_evaluated(client: WebClient, session: Session,
                                                arranged: tuple[Call, str, str]) -> None:
    call, theme, _district = arranged
    data = _xlsx([["=HYPERLINK(\"http://evil.example\",\"clic\")", BODY, theme, "", "", "=1+1", ""],
                  ["Une idée sans formule du tout", "=SUM(A1:A3) " + BODY, theme, "", "", "", ""]])
    page = _upload(client, call.id, data, "idees.xlsx")  # type: ignore[arg-type]
    assert page.status_code == 200
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;clic&#34;)" in page.text or \
        "=HYPERLINK(&quot;http://evil.example&quot;,&quot;clic&quot;)" in page.text
    action, expected = _confirm_form(page.text)
    assert expected == "2"
    assert client.submit(action, {"expected": expected}).status_code == 303
    session.expire_all()
    titles = sorted(i.title for i in session.exec(select(Idea)).all())
    assert titles[0].startswith("=HYPERLINK(") and titles[1] == "Une idée sans formule du tout"
    assert session.exec(select(Idea).where(Idea.title == titles[1])).one().body_md.startswith("=SUM(A1:A3)")
    names = {i.display_name for i in session.exec(select(IdeaIntake)).all()}
    assert names == {"=1+1", ""}


@pytest.mark.parametrize(("data", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 50, "n’est pas un tableur"),
    (b"PK\x03\x04 not really a zip", "n’est pas un tableur"),
    (b"", "Choisissez un fichier"),
    ("titre;idée\n".encode(), "aucune idée à importer"),
    (b"nom;courriel\nA;b@example.org\n", "colonne « titre »"),
    (b"titre\n" + b"x" * (2 * 1024 * 1024), "trop volumineux"),
])
def test_bad_files_are_refused_with_a_clear_message(client: WebClient, session: Session, settings: Settings,
                                                    arranged: tuple[Call, str, str], data: bytes,
                                                    message: str) -> None:
    call, _theme, _district = arranged
    empty = client.submit(f"/moderation/calls/{call.id}/import")  # no file chosen
    response = _upload(client, call.id, data) if data else empty  # type: ignore[arg-type]
    assert response.status_code == 422
    text = response.text.replace("\u202f", " ").replace("\xa0", " ")
    assert message in text
    assert _ideas(session) == 0
    kept = Path(settings.imports_dir)
    assert not kept.exists() or not any(kept.iterdir())


def test_too_many_rows_are_refused(client: WebClient, session: Session, arranged: tuple[Call, str, str]) -> None:
    call, theme, _district = arranged
    rows = [[f"Idée numéro {n} du grand fichier", BODY, theme, "", "", "", ""] for n in range(1001)]
    response = _upload(client, call.id, _csv(rows))  # type: ignore[arg-type]
    assert response.status_code == 422 and "trop de lignes" in response.text
    assert _ideas(session) == 0


def test_csrf_refused_and_a_citizen_gets_403(client: WebClient, session: Session,
                                             arranged: tuple[Call, str, str]) -> None:
    call, theme, district = arranged
    data = _csv(_rows(call, theme, district))
    response = client.post(f"/moderation/calls/{call.id}/import", files={"sheet": ("idees.csv", data, "text/csv")})
    assert response.status_code == 403
    action, expected = _confirm_form(_upload(client, call.id, data).text)  # type: ignore[arg-type]
    assert client.post(action, data={"expected": expected}).status_code == 403
    client.login_as(make_user(session))
    assert client.submit(action, {"expected": expected}).status_code == 403
    assert _upload(client, call.id, data).status_code == 403  # type: ignore[arg-type]
    assert _ideas(session) == 0


def test_a_workbook_unpacking_to_too_much_is_refused_before_reading(
        client: WebClient, session: Session, arranged: tuple[Call, str, str]) -> None:
    call, _theme, _district = arranged
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/sharedStrings.xml", "A" * (sheets.MAX_UNPACKED_BYTES + 1))
    data = out.getvalue()
    assert len(data) < sheets.MAX_FILE_BYTES
    response = _upload(client, call.id, data, "idees.xlsx")  # type: ignore[arg-type]
    assert response.status_code == 422 and "trop volumineux" in response.text.replace("\u202f", " ")
    assert _ideas(session) == 0


def test_previews_never_confirmed_are_forgotten(client: WebClient, session: Session, settings: Settings,
                                                arranged: tuple[Call, str, str]) -> None:
    call, theme, district = arranged
    assert _upload(client, call.id, _csv(_rows(call, theme, district))).status_code == 200  # type: ignore[arg-type]
    kept = list(settings.imports_dir.iterdir())
    assert len(kept) == 1
    assert sheets.prune_kept(settings) == 0  # a fresh preview stays
    old = time.time() - 2 * 86400
    os.utime(kept[0], (old, old))
    assert sheets.prune_kept(settings) == 1 and not kept[0].exists()


def test_the_columns_are_named_in_the_readers_language_and_german_utf16_and_long_cells_are_read(
        client: WebClient, session: Session, arranged: tuple[Call, str, str]) -> None:
    call, theme, _district = arranged
    page = client.get(f"/moderation/calls/{call.id}/import").text
    assert "<strong>titre</strong>" in page and "<strong>quartier</strong>" in page
    assert "<strong>title</strong>" not in page
    assert "français, en néerlandais, en allemand ou en anglais" in page

    # German column names, saved by Excel as "Unicode text": UTF-16 with its BOM, tab-separated.
    german = "Titel\tBeschreibung\tKanal\n" + f"Ein Gemeinschaftsgarten am Fluss\t{BODY}\tTelefon\n"
    preview = _upload(client, call.id, german.encode("utf-16"), name="ideen.txt")  # type: ignore[arg-type]
    assert preview.status_code == 200, preview.text[:500]
    assert "Ein Gemeinschaftsgarten am Fluss" in preview.text and "Téléphone" in preview.text

    # A cell past the csv module's 128 KB field limit refuses its row, with that row's reason.
    huge = _csv([["Une idée très longuement détaillée", "x" * 140_000, theme, "", "", "", ""],
                 ["Une idée de taille raisonnable", BODY, theme, "", "pigeon voyageur", "", ""]])
    answer = _upload(client, call.id, huge)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text[:500]
    assert "pas un tableur" not in answer.text
    # A channel nobody knows is shown as written, not as "Papier", with the reason.
    assert "pigeon voyageur" in answer.text and "Canal inconnu" in answer.text
    refused_row = answer.text[answer.text.index("Une idée de taille raisonnable"):]
    assert "Papier" not in refused_row[:refused_row.index("</tr>")]
    assert _ideas(session) == 0


def test_a_call_that_no_longer_takes_ideas_offers_no_intake_form(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session, phase="results")
    client.login_as(moderator)
    for path in (f"/moderation/calls/{call.id}/intake", f"/moderation/calls/{call.id}/import"):
        page = client.get(path)
        assert page.status_code == 200
        assert "ne reçoit plus d’idées" in page.text.replace("'", "’")
        assert 'enctype="multipart/form-data"' not in page.text, path
    review = client.get(f"/moderation/calls/{call.id}/review").text
    assert f"/moderation/calls/{call.id}/intake" not in review
    public = client.get(f"/calls/{call.slug}").text
    assert f"/moderation/calls/{call.id}/intake" not in public and f"/calls/{call.slug}/paper-form" not in public
    paper = client.get(f"/calls/{call.slug}/paper-form").text
    assert "ne reçoit plus de nouvelles idées" in paper and "Les idées sont reçues jusqu" not in paper
