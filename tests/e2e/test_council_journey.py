"""A moderator reads the participation report of the platform and of one call, and finds the
council's files there (issue 18). Both pages pass the accessibility and phone checks."""

import uuid
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.account.models import Role
from tests.e2e.harness import SCREENSHOTS, E2EServer, check_page, login_as
from tests.factories import make_call, make_category, make_district, make_idea

pytestmark = pytest.mark.e2e


def test_moderator_reads_the_council_report(server: E2EServer, context: BrowserContext, page: Page,
                                           tmp_path: Path) -> None:
    moderator = server.create_user(role=Role.moderator, display_name="Modératrice Chiffres")
    author = server.create_user(display_name="Autrice Chiffres")
    with server.session() as s:
        call = make_call(s, slug=f"chiffres-{uuid.uuid4().hex[:6]}", title="Budget des quartiers", phase="voting")
        theme = make_category(s, call, name="Espaces verts et mobilité douce dans les quartiers")
        district = make_district(s, name=f"Outremeuse {uuid.uuid4().hex[:4]}")
        for n in range(3):
            make_idea(s, call, author, title=f"Idée chiffrée {n}", category=theme, district=district)
        s.commit()
        call_id, title = call.id, call.title
    login_as(context, server, moderator)

    page.goto("/moderation")
    page.get_by_role("link", name="Chiffres pour le conseil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport de participation : tous les appels")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    check_page(page, "council-report")

    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(f"{server.url}/moderation/council/calls/{call_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    row = page.locator("table.council-table").filter(has_text="Par thème").locator("tbody tr").first
    expect(row.locator("td").nth(1)).to_have_text("3")  # three ideas in the theme
    expect(page.get_by_role("link", name="Télécharger le dossier pour le conseil (ZIP)")).to_be_visible()
    check_page(page, "council-call-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le dossier pour le conseil (ZIP)").click()
    assert download.value.suggested_filename.endswith(".zip")
    # The pack's report is a page of its own: opened from the disk, it shows its figures and prints.
    archive = tmp_path / "pack.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as pack:
        pack.extract("report.html", tmp_path)
    page.goto((tmp_path / "report.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator("svg[role=img]").first).to_be_visible()
    page.emulate_media(media="print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "council-pack-report-print.png"), full_page=True)
