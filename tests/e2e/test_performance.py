"""Performance in the browser: each page's JavaScript stays under 100 KB, images are lazy and sized.

`check_page` enforces both on every checked page; this test states the budget on the main pages
on its own, with the figures, so a regression names the page and its weight."""

import pytest
from playwright.sync_api import Page

from tests.e2e.harness import IMAGE_PROBLEMS_JS, MAX_JS_BYTES, log_of

pytestmark = pytest.mark.e2e


def test_javascript_budget_and_images_on_the_main_pages(page: Page) -> None:
    weights = {}
    for path in ("/", "/calls", "/account/register", "/account/login"):
        response = page.goto(path)
        assert response is not None and response.ok, path
        page.wait_for_load_state("load")
        scripts = log_of(page).scripts
        assert scripts, f"{path} should load app.js"
        weights[path] = sum(len(s.body()) for s in scripts)
        assert page.evaluate(IMAGE_PROBLEMS_JS) == [], path
    assert max(weights.values()) <= MAX_JS_BYTES, weights
    # No framework: the enhancements are a few kilobytes.
    assert max(weights.values()) < 20 * 1024, weights
