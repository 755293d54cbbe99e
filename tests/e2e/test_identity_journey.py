"""The city's identity (issue 15), as an administrator sets it: the city's name, a logo and the
brand colours (a colour too light for white text is refused with its ratio and the minimum,
and nothing changes), then every page shows them at 390x844 and 1280x900: the title, the
header's logo named by the platform, the footer, and buttons filled with the brand colour.
Each page passes the harness's checks. The demo's identity is put back at the end: other
journeys share the server."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.identity.models import CityIdentity
from tests.e2e.harness import DESKTOP, MOBILE, E2EServer, check_page, login_as

pytestmark = pytest.mark.e2e

LOGO_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            b'<script>document.title = "pwned"</script>'
            b'<rect x="4" y="4" width="56" height="56" rx="12" fill="#1d4f91"/>'
            b'<path d="M20 44 L32 16 L44 44 Z" fill="#ffffff"/></svg>')
BRAND = "rgb(29, 79, 145)"  # #1d4f91
PAGES = ("/", "/calls", "/announcements", "/privacy", "/search?q=parc", "/account")


@pytest.fixture
def demo_identity_restored(server: E2EServer) -> Iterator[None]:
    with server.session() as s:
        saved = s.exec(select(CityIdentity)).first()
        snapshot = saved.model_dump() if saved is not None else None
    yield
    with server.session() as s:
        row = s.exec(select(CityIdentity)).first()
        if snapshot is None:
            if row is not None:
                s.delete(row)
        else:
            assert row is not None
            for key, value in snapshot.items():
                setattr(row, key, value)
            s.add(row)
        s.commit()


def test_an_administrator_sets_the_citys_identity_and_every_page_shows_it(
        server: E2EServer, context: BrowserContext, page: Page, demo_identity_restored: None) -> None:
    admin = server.create_user(role="admin", display_name="Anne Administratrice")
    login_as(context, server, admin)
    page.goto("/admin")
    page.get_by_role("link", name="L’identité de la ville").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("L’identité de la ville")
    check_page(page, "admin-identity")

    page.fill("#f-platform_name", "Liège participe")
    page.fill("#f-city_name", "Liège")
    page.fill("#f-contact_email", "participer@liege.example")
    page.fill("#f-footer_label_1", "Ville de Liège")
    page.fill("#f-footer_url_1", "https://www.liege.be/")
    page.set_input_files("#f-logo", files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": LOGO_SVG}])
    page.fill("#f-primary_color", "#6f9fd8")  # light blue: white text on it would be unreadable
    page.fill("#f-accent_color", "#0f2f5c")
    page.get_by_role("button", name="Enregistrer l’identité").click()

    error = page.locator("#f-primary_color-error")
    expect(error).to_contain_text("#6f9fd8")
    expect(error).to_contain_text("4,5:1")
    assert "Choisissez une couleur plus foncée" in error.inner_text()
    check_page(page, "admin-identity-refused")
    assert page.title().endswith("· Réinventons Liège")  # nothing was saved

    page.fill("#f-primary_color", "#1d4f91")
    page.set_input_files("#f-logo", files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": LOGO_SVG}])
    page.get_by_role("button", name="Enregistrer l’identité").click()
    expect(page.locator(".flash-success")).to_contain_text("L’identité de la ville est enregistrée.")

    for viewport in (MOBILE, DESKTOP):
        page.set_viewport_size(viewport)
        for path in PAGES:
            page.goto(path)
            assert page.title().endswith("· Liège participe"), path
            logo = page.locator(".site-header .brand img")
            expect(logo).to_have_attribute("alt", "Liège participe")
            expect(logo).to_be_visible()
            assert logo.evaluate("img => img.complete && img.naturalWidth > 0 && !img.src.includes('svg')")
            footer = page.locator(".site-footer")
            expect(footer).to_contain_text("Liège participe, la plateforme de participation de Liège.")
            expect(footer.get_by_role("link", name="Ville de Liège")).to_have_attribute("href", "https://www.liege.be/")
            expect(footer.get_by_role("link", name="participer@liege.example")).to_be_visible()
            colours = page.evaluate("""() => [
                getComputedStyle(document.querySelector('.header-search .button')).backgroundColor,
                getComputedStyle(document.querySelector('.site-header')).backgroundColor]""")
            assert colours == [BRAND, BRAND], (path, colours)
            if viewport is DESKTOP:
                check_page(page, "identity-" + (path.split("?")[0].strip("/") or "home"))
    assert page.title() != "pwned"
    favicon = page.request.get("/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"] == "image/x-icon"
    manifest = page.request.get("/manifest.webmanifest").json()
    assert manifest["name"] == "Liège participe" and manifest["theme_color"] == "#1d4f91"
