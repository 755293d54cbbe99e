"""Ideas from paper in a real browser: a moderator enters an idea received on paper with the
scan of its form, the public sees "Received on paper" and the resident's name but never the
scan; a spreadsheet is imported through its preview; the paper form prints. Each page checked
(axe, phone layout, HTML validity)."""

import csv
import io

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_category, make_district
from tests.media.samples import gps_jpeg

pytestmark = pytest.mark.e2e

BODY = "Installer des bancs à l'ombre le long du quai, pour les personnes âgées du quartier."


def _sheet() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["titre", "idée", "thème", "canal", "nom"])
    writer.writerow(["Un composteur rue Féronstrée", BODY, "Nature en ville", "papier", "Jeanne"])
    writer.writerow(["Des arceaux vélo devant l'école", BODY, "Nature en ville", "téléphone", ""])
    writer.writerow(["abc", BODY, "Astronomie", "pigeon", "Trop court"])
    return out.getvalue().encode("utf-8")


def test_moderator_enters_a_paper_idea_and_imports_a_sheet(server: E2EServer, context: BrowserContext,
                                                           page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    moderator = server.create_user(role="moderator", display_name="Marc Modérateur")
    with server.session() as s:
        call = make_call(s, title="Des quais plus accueillants")
        make_category(s, call, name="Nature en ville")
        district = make_district(s, name="Outremeuse intake")
        s.commit()
        call_id, slug, district_id = call.id, call.slug, district.id
    login_as(context, server, moderator)

    page.goto(f"/moderation/calls/{call_id}/intake")
    check_page(page, "intake-form")
    page.get_by_role("radio", name="Papier").check()
    page.get_by_label("Titre", exact=False).first.fill("Des bancs à l'ombre sur le quai")
    page.get_by_label("L’idée").fill(BODY)
    page.get_by_label("Thème").select_option(label="Nature en ville")
    page.get_by_label("Quartier").select_option(str(district_id))
    page.get_by_label("Nom à afficher").fill("Madame Lejeune")
    page.get_by_label("Adresse e-mail (facultative)").fill("lejeune@example.org")
    page.set_input_files("#f-scan", files=[{"name": "formulaire.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg()}])
    page.get_by_role("button", name="Saisir et publier l’idée").click()
    expect(page.locator(".flash-success")).to_contain_text("L’idée est saisie et publiée.")
    check_page(page, "intake-detail")
    scan = page.locator("img.intake-scan")
    expect(scan).to_be_visible()
    scan_url = scan.get_attribute("src")
    assert scan_url
    page.wait_for_function("document.querySelector('img.intake-scan').naturalWidth > 0")
    idea_url = page.get_by_role("link", name="Sa page publique").get_attribute("href")
    assert idea_url

    # A visitor reads the idea, received on paper, under the name chosen; the scan stays private.
    visitor = new_page()
    visitor.goto(idea_url)
    expect(visitor.locator(".idea-byline")).to_contain_text("Reçue sur papier")
    expect(visitor.locator(".idea-byline")).to_contain_text("Madame Lejeune")
    expect(visitor.get_by_text("lejeune@example.org")).to_have_count(0)
    answer = visitor.request.get(server.url + scan_url, max_redirects=0)
    assert answer.status in (303, 401, 403, 404)

    # A spreadsheet: the preview lists every row, what is refused and why; then two ideas.
    page.goto(f"/moderation/calls/{call_id}/import")
    check_page(page, "intake-import")
    page.set_input_files("#f-file", files=[{"name": "idees.csv", "mimeType": "text/csv", "buffer": _sheet()}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator(".lead")).to_contain_text("2 idées seront créées.")
    expect(page.locator("#row-4")).to_contain_text("Thème inconnu")
    expect(page.locator("#row-4")).to_contain_text("Canal inconnu")
    check_page(page, "intake-preview")
    page.get_by_role("button", name="Créer 2 idées").click()
    expect(page.locator(".flash-success")).to_contain_text("Idées créées depuis le fichier\u202f: 2")
    expect(page.locator(".intake-counts")).to_contain_text("Papier")

    # The paper form, public, reachable from the call page.
    visitor.goto(f"/calls/{slug}")
    visitor.get_by_role("link", name="Formulaire papier à imprimer").click()
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Des quais plus accueillants")
    expect(visitor.locator(".tick-list").first).to_contain_text("Nature en ville")
    check_page(visitor, "intake-paper-form")
    visitor.emulate_media(media="print")
    expect(visitor.locator(".site-header")).to_be_hidden()
    expect(visitor.locator(".paper-screen-only").first).to_be_hidden()
    # The call page printed: no header, footer, buttons or filters; the rules stay.
    visitor.goto(f"/calls/{slug}")
    for chrome in (".site-header", ".site-footer", ".call-actions", ".call-print"):
        expect(visitor.locator(chrome).first).to_be_hidden()
    expect(visitor.locator(".call-rules")).to_be_visible()
