"""A citizen proposes an idea with a photo, in a real browser; and with the keyboard alone.

Runs in English: labels are the msgids, so this journey does not depend on the French catalogue
of the ideas domain. The French pages are checked in test_idea_pages.py."""

import io
import re
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, assert_focus_visible, check_page, login_as, tab_to
from tests.factories import make_call, make_category

pytestmark = pytest.mark.e2e


@pytest.fixture
def open_call(server: E2EServer) -> tuple[str, str]:
    """A call taking ideas, with one theme: (slug, theme name)."""
    with server.session() as s:
        call = make_call(s, slug=f"rues-vertes-{uuid.uuid4().hex[:6]}", title="Des rues plus vertes",
                         phase="submissions")
        theme = make_category(s, call, name="Trees and parks")
        s.commit()
        return call.slug, theme.name


@pytest.fixture
def context(new_context: object) -> BrowserContext:
    return new_context(locale="en-GB")  # type: ignore[operator]


def camera_photo(path: Path) -> Path:
    """A 3000x2000 JPEG, as large as a phone's, with enough detail to weigh like one."""
    image = Image.new("RGB", (3000, 2000), (90, 140, 80))
    draw = ImageDraw.Draw(image)
    for i in range(0, 3000, 40):
        draw.line([(i, 0), (3000 - i, 2000)], fill=(i % 255, 120, 200 - i % 200), width=9)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return path


def test_citizen_proposes_an_idea_with_a_photo(server: E2EServer, context: BrowserContext, page: Page,
                                                open_call: tuple[str, str], tmp_path: Path) -> None:
    slug, theme = open_call
    login_as(context, server, server.create_user(display_name="Inès Verte", language="en"))
    page.goto(f"/calls/{slug}")
    check_page(page, "journey-call")
    page.get_by_role("link", name="Propose an idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose an idea")

    page.get_by_label("Title").fill("Plant trees along the Rue Saint-Gilles")
    page.get_by_label("Your idea").fill("Shade in summer, cleaner air and a calmer street for the pupils "
                                        "of the school at number 12.")
    page.get_by_label("Theme").select_option(label=theme)
    photo = camera_photo(tmp_path / "street.jpg")
    page.get_by_label("Photo 1", exact=True).set_input_files(str(photo))
    page.get_by_label("Description of photo 1").fill("The street today, without a single tree")
    page.get_by_role("button", name="Publish my idea").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Plant trees along the Rue Saint-Gilles")
    expect(page.locator(".flash")).to_contain_text("Thank you! Your idea is published.")
    picture = page.get_by_role("img", name="The street today, without a single tree")
    expect(picture).to_be_visible()
    # decode() waits until the picture has arrived (visible comes first) and fails if it is broken.
    assert picture.evaluate("async img => { await img.decode(); return img.naturalWidth > 0; }")
    assert picture.evaluate("img => img.naturalWidth") <= 1600  # resized, not the 3000 px original
    check_page(page, "journey-idea")
    idea_url = page.url

    page.goto(f"/calls/{slug}")
    card = page.locator(".idea-card", has_text="Plant trees along the Rue Saint-Gilles")
    thumb = card.locator("img")
    expect(thumb).to_have_attribute("src", re.compile(r"/thumb$"))
    weight = len(page.request.get(thumb.get_attribute("src") or "").body())
    assert weight < photo.stat().st_size / 10, f"the list sends {weight} bytes for a thumbnail"
    card.get_by_role("link", name="Plant trees along the Rue Saint-Gilles").click()
    expect(page).to_have_url(idea_url)


def test_idea_submitted_with_the_keyboard_alone(server: E2EServer, context: BrowserContext, page: Page,
                                                open_call: tuple[str, str]) -> None:
    slug, theme = open_call
    login_as(context, server, server.create_user(language="en"))
    page.goto(f"/calls/{slug}/ideas/new")
    tab_to(page, page.get_by_label("Title"), max_tabs=60)
    page.keyboard.type("A bench at every bus stop")
    tab_to(page, page.get_by_label("Your idea"))
    page.keyboard.type("Older people wait standing in the rain; a bench and a shelter would help them.")
    tab_to(page, page.get_by_label("Theme"))
    page.keyboard.press("ArrowDown")  # the first theme after "Choose a theme"
    expect(page.get_by_label("Theme")).to_have_value(re.compile(r"\d+"))
    assert page.get_by_label("Theme").evaluate("el => el.selectedOptions[0].text") == theme
    tab_to(page, page.get_by_role("button", name="Publish my idea"), max_tabs=60)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("A bench at every bus stop")
    expect(page.locator(".flash")).to_contain_text("Your idea is published")
