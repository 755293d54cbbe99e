"""Buttons say what they do (issue 15): the danger style is red and the secondary one is not
filled, on <button> and <a> alike (a CSS specificity slip once drew every <button> as the main
action, a deletion included); and an author withdraws a published idea only through a page that
names what is lost."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.call.phases import Phase
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e

GREEN = "rgb(179, 18, 46)"  # --brand: the demo's primary colour (app.identity.demo)
RED = "rgb(176, 0, 32)"  # --red
WHITE = "rgb(255, 255, 255)"


def _colours(page: Page, selector: str) -> tuple[str, str]:
    """The computed background and text colours of the first element matching `selector`."""
    found = page.eval_on_selector(selector, "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
    return (found[0], found[1])


def test_each_style_applies_to_buttons_and_links(server: E2EServer, page: Page) -> None:
    page.goto("/")
    # The same classes on both elements, styled by the site's own stylesheet.
    page.evaluate("""() => {
        const kinds = ["button", "button button-secondary", "button button-danger"];
        for (const [n, kind] of kinds.entries()) {
            const b = document.createElement("button"); b.className = kind; b.id = "b" + n; b.textContent = "B";
            const a = document.createElement("a");
            a.className = kind; a.id = "a" + n; a.href = "#"; a.textContent = "A";
            document.querySelector("main").append(b, a);
        }
    }""")
    for element in ("b", "a"):
        assert _colours(page, f"#{element}0") == (GREEN, WHITE), element  # the main action: filled green
        assert _colours(page, f"#{element}1") == (WHITE, GREEN), element  # secondary: not filled
        assert _colours(page, f"#{element}2") == (RED, WHITE), element  # danger: red


def test_an_author_withdraws_a_published_idea_through_the_confirmation(
        server: E2EServer, context: BrowserContext, page: Page) -> None:
    author = server.create_user(display_name="Aïcha Auteure")
    with server.session() as s:
        call = make_call(s, phase=Phase.voting)
        idea = make_idea(s, call, author, title="Un abri vélo couvert place du Marché", vote_count=7)
        s.commit()
        idea_id = idea.id
    login_as(context, server, author)
    page.goto(f"/ideas/{idea_id}")
    page.get_by_role("link", name="Retirer mon idée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer mon idée")
    expect(page.locator("main")).to_contain_text("7 personnes soutiennent cette idée")
    check_page(page, "idea-withdraw-confirmation")
    danger = page.get_by_role("button", name="Retirer mon idée définitivement")
    assert danger.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    page.get_by_role("link", name="Garder mon idée").click()  # changing one's mind changes nothing
    expect(page).to_have_url(f"{server.url}/ideas/{idea_id}")
    page.get_by_role("link", name="Retirer mon idée").click()
    danger.click()
    expect(page.locator(".flashes")).to_contain_text("Votre idée est retirée")
    expect(page.get_by_role("link", name="Retirer mon idée")).to_have_count(0)
