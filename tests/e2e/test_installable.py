"""Installable web app: a valid manifest with icons, a service worker that serves an offline page
and caches static assets, and never stores pages (they can hold personal data)."""

import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as, logout

pytestmark = pytest.mark.e2e

CACHED_URLS_JS = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) found.push(new URL(request.url).pathname);
  }
  return found;
}"""


def test_manifest_is_linked_and_valid(page: Page) -> None:
    page.goto("/")
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text())
    assert manifest["name"] == "Réinventons Liège" and manifest["short_name"]  # the demo's identity
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] in ("standalone", "fullscreen", "minimal-ui")
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        answer = page.request.get(icon["src"])
        assert answer.status == 200, icon
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(answer.body())).size
            assert icon["sizes"] == f"{width}x{height}", icon
            sizes.setdefault(icon["sizes"], set()).add(icon.get("purpose", "any"))
    assert "any" in sizes.get("192x192", set()) and "any" in sizes.get("512x512", set())
    assert "maskable" in sizes["512x512"]
    assert page.locator('meta[name="theme-color"]').get_attribute("content") == manifest["theme_color"]


def test_service_worker_offline_page_and_nothing_personal_cached(
        server: E2EServer, context: BrowserContext, page: Page) -> None:
    user = server.create_user(display_name="Nadia Personne")
    login_as(context, server, user)

    answer = page.request.get("/sw.js")
    assert answer.headers["content-type"].startswith("application/javascript")
    assert answer.headers["service-worker-allowed"] == "/"

    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    script = page.evaluate("async () => (await navigator.serviceWorker.ready).active.scriptURL")
    assert script == f"{server.url}/sw.js"
    page.reload()  # now controlled by the worker
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    # Personal pages, the API and a form post all go through the worker's fetch handler.
    page.goto("/notifications")
    page.goto("/")
    assert page.evaluate("async () => (await fetch('/api/openapi.json')).ok")
    logout(page)
    expect(page.locator(".flash")).to_contain_text("Votre session est fermée")
    login_as(context, server, user)
    page.goto("/")

    cached = page.evaluate(CACHED_URLS_JS)
    assert "/offline" in cached and "/static/css/app.css" in cached
    assert "/brand.css" in cached  # the city's colours, versioned: the offline page keeps them
    assert all(path in ("/offline", "/brand.css") or path.startswith("/static/") for path in cached), cached
    offline_copy = page.evaluate("async () => (await (await caches.match('/offline')).text())")
    assert "Nadia Personne" not in offline_copy and "csrf_token" not in offline_copy

    context.set_offline(True)
    try:
        page.goto("/account")
        expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
        assert "Nadia Personne" not in page.content()
        # The stylesheets still apply: the worker keeps them (app.css and the versioned brand.css).
        header_colour = page.evaluate("() => getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        assert header_colour == "rgb(179, 18, 46)"  # the demo's brand colour, from the worker's /brand.css
        check_page(page, "offline-from-worker")
        page.goto("/?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
    finally:
        context.set_offline(False)
