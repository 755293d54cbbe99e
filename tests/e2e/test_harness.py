"""The checks themselves can fail: a page breaking each rule is caught, with a useful message."""

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e

BAD_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Bad</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>.tiny { font-size: 12px; } .wide { width: 900px; }</style></head>
<body><main>
<h1>A bad page</h1>
<p class="tiny">Small print</p>
<div class="wide">Too wide for a phone</div>
<form><input type="text" name="q"><button style="padding:0">Go</button></form>
<img src="/static/img/icon-192.png">
<script src="/static/js/app.js"></script>
<script>console.error("boom")</script>
</main></body></html>"""


def test_a_bad_page_fails_every_check(server: harness.E2EServer, page: Page) -> None:
    page.route("**/harness/bad", lambda route: route.fulfill(body=BAD_PAGE, content_type="text/html"))
    page.goto("/harness/bad")
    with pytest.raises(AssertionError) as failure:
        check_page(page, "harness-bad", screenshot=False)
    message = str(failure.value)
    harness.SAVED_HTML.pop("harness-bad-en", None)  # not for the end-of-run validator
    for expected in (
        "axe label",                   # an input without a label
        "axe image-alt",               # an image without alt text
        "horizontal scrolling",
        "touch target",
        "text 12px",
        "image /static/img/icon-192.png: missing loading=\"lazy\"",
        "width and height, alt",
        "console: boom",
    ):
        assert expected in message, f"{expected!r} not reported in:\n{message}"


LAZY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Lazy</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>A chart below the first screen</h1>
<div style="height: 3000px"></div>
<img src="/static/img/no-such-chart.svg" loading="lazy" width="320" height="346" alt="A chart">
</main></body></html>"""


def test_an_image_below_the_first_screen_that_does_not_load_is_caught(server: harness.E2EServer,
                                                                      page: Page) -> None:
    """A full-page screenshot does not scroll: a lazy image below the first screen was never
    loaded, so never seen broken (and shown as an empty box in the screenshot)."""
    page.route("**/harness/lazy", lambda route: route.fulfill(body=LAZY_PAGE, content_type="text/html"))
    page.goto("/harness/lazy")
    try:
        with pytest.raises(AssertionError) as failure:
            check_page(page, "harness-lazy", mobile=False)
    finally:
        harness.SAVED_HTML.pop("harness-lazy-en", None)  # not for the end-of-run validator
        (harness.SCREENSHOTS / "harness-lazy-en-desktop.png").unlink(missing_ok=True)
    assert "image /static/img/no-such-chart.svg did not load" in str(failure.value)


def test_the_validator_reports_errors_per_page(tmp_path: Path) -> None:
    good = tmp_path / "good-en.html"
    good.write_text('<!DOCTYPE html><html lang="en"><head><title>ok</title></head><body><p>ok</p></body></html>')
    bad = tmp_path / "bad-en.html"
    bad.write_text('<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p><div>no</p></body></html>')
    errors = harness.validate_html([good, bad])
    assert list(errors) == ["bad-en.html"]
    assert any("No “p” element in scope" in line for line in errors["bad-en.html"]), errors


def test_an_invisible_focus_is_caught(server: harness.E2EServer, page: Page) -> None:
    hidden_focus = ('<!DOCTYPE html><html lang="en"><head><title>Focus</title><style>'
                    'a:focus { outline: none; box-shadow: none; }</style></head>'
                    '<body><main><a href="/">Home</a></main></body></html>')
    page.route("**/harness/focus", lambda route: route.fulfill(body=hidden_focus, content_type="text/html"))
    page.goto("/harness/focus")
    page.keyboard.press("Tab")
    with pytest.raises(AssertionError, match="focus not visible"):
        harness.assert_focus_visible(page)
