"""Searching from the header's box in a real browser: results with highlights, filters with
counts, and the page checked (axe-core, the validator, the phone layout), in French and English."""

import pytest
from playwright.sync_api import Page, expect

from app.search import indexing
from tests.e2e.harness import E2EServer, check_page, visit_and_check
from tests.factories import make_call, make_category, make_idea

pytestmark = pytest.mark.e2e


def test_a_visitor_searches_from_the_header(server: E2EServer, page: Page) -> None:
    with server.session() as s:
        call = make_call(s, title="Liège en transition")
        energy = make_category(s, call, name="Énergie")
        make_idea(s, call, title="Géothermie sous les écoles", category=energy,
                  body="Des sondes sous la cour de chaque école communale.")
        make_idea(s, call, title="Une coopérative citoyenne", body="Les habitants investissent dans la géothermie.")
        indexing.rebuild(s)
        s.commit()
    page.goto("/?lang=fr")
    box = page.get_by_role("search", name="Recherche sur le site").get_by_label("Rechercher des idées")
    box.fill("GEOTHERMIE")
    box.press("Enter")
    expect(page.get_by_role("status")).to_have_text("2 idées trouvées")
    expect(page.locator(".search-result-title mark").first).to_have_text("Géothermie")
    expect(page.get_by_label("Thème")).to_contain_text("Énergie (1)")
    expect(page.locator(".search-result-excerpt mark")).to_have_text("géothermie")
    check_page(page, "search-results")
    visit_and_check(page, "/search?q=" + "x" * 300, "search-too-long")
    visit_and_check(page, "/search", "search-empty")
