"""Actions done in place on an idea page leave the whole page as a reload would show it: counts
everywhere, buttons, lists; the message said in a live region; focus on what the action led to.
Each kind is done in place, the page is read, reloaded and read again: both readings must match.

And every form is sent once: its buttons are disabled while it is on its way, enabled again
when the person comes back to the page."""

import re
import time
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e

# What the page says and offers, live messages and flashes aside (they are what differs, by
# design, between an action and a later reload). Hidden elements are left out, text that only
# screen readers get is kept; forms count with where they post and their buttons.
READ_PAGE = """() => {
  const copy = document.querySelector("main").cloneNode(true);
  copy.querySelectorAll("[role=status], .flashes, [hidden], script").forEach((e) => e.remove());
  const text = copy.textContent.replace(/\\s+/g, " ").trim();
  const forms = Array.from(copy.querySelectorAll("form")).map((f) =>
    [f.getAttribute("action"), Array.from(f.querySelectorAll("button")).map((b) => b.textContent.trim())]);
  const header = document.querySelector("header").textContent.replace(/\\s+/g, " ").trim();
  return { text, forms, header };
}"""


def read_page(page: Page) -> dict[str, Any]:
    return page.evaluate(READ_PAGE)


def settled(page: Page) -> None:
    """The in-place action is over: answer received, page parts brought up to date."""
    expect(page.locator("main[aria-busy]")).to_have_count(0)


def same_after_reload(page: Page) -> dict[str, Any]:
    settled(page)
    in_place = read_page(page)
    page.reload()
    reloaded = read_page(page)
    assert in_place == reloaded
    return reloaded


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def test_each_in_place_action_leaves_the_page_as_a_reload_would(server: E2EServer, context: BrowserContext,
                                                                 page: Page) -> None:
    citizen = server.create_user(display_name="Inès En Place")
    with server.session() as s:
        call = make_call(s, phase="voting", votes_per_citizen=3, comments_during_voting=True)
        idea = make_idea(s, call, title="Des bancs le long de la Meuse")
        s.commit()
        idea_id = idea.id
    login_as(context, server, citizen)
    page.goto(f"/ideas/{idea_id}")

    # Support: the count, the votes left, the button.
    page.get_by_role("button", name="Soutenir cette idée").click()
    expect(page.locator("#vote-message")).to_have_text("Merci ! Vous soutenez cette idée.")
    settled(page)
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Retirer mon soutien"
    after = same_after_reload(page)
    assert "1 soutien" in after["text"] and "Il vous reste 2 soutiens dans cet appel." in after["text"]

    # Follow, then stop following: the state, its link, the button and the follower count.
    page.get_by_role("button", name="Suivre cette idée").click()
    expect(page.locator("#vote-message")).to_have_text("Vous suivez cette idée : nous vous tiendrons au "
                                                       "courant de son évolution.")
    after = same_after_reload(page)
    assert "1 personne la suit" in after["text"] and "Ne plus suivre cette idée" in after["text"]
    page.get_by_role("button", name="Ne plus suivre cette idée").click()
    expect(page.locator("#vote-message")).to_have_text("Vous ne suivez plus cette idée.")
    settled(page)
    # Focus stays on the control that was used, now its opposite.
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Suivre cette idée"
    assert "0 personne la suit" in same_after_reload(page)["text"]
    page.get_by_role("button", name="Retirer mon soutien").click()
    expect(page.locator("#vote-message")).to_have_text("Votre soutien est retiré.")
    assert "0 soutien" in same_after_reload(page)["text"]

    # A comment: both counts, the list and the empty-list line; focus on the new comment.
    page.get_by_label("Votre commentaire").fill("Avec de l'ombre, si possible.")
    page.get_by_role("button", name="Publier mon commentaire").click()
    expect(page.locator("#comment-status")).to_have_text("Votre commentaire est publié.")
    settled(page)
    comment_id = page.locator("#comment-list article").first.get_attribute("id")
    assert focused_id(page) == comment_id
    expect(page.get_by_label("Votre commentaire")).to_have_value("")
    check_page(page, "idea-after-comment-in-place")
    after = same_after_reload(page)
    assert after["text"].count("1 commentaire") == 2  # the heading and the idea's counts
    assert "Aucun commentaire" not in after["text"]

    # A second comment right away: the form has a new one-time token, so it is not a repeat.
    page.get_by_label("Votre commentaire").fill("Et des poubelles.")
    page.get_by_role("button", name="Publier mon commentaire").click()
    settled(page)
    assert same_after_reload(page)["text"].count("2 commentaires") == 2

    # Delete the first one: its place says so, the counts go down, focus stays there.
    page.locator(f"#{comment_id}").get_by_role("button", name="Supprimer").click()
    expect(page.locator("#comment-status")).to_have_text("Le commentaire est supprimé.")
    settled(page)
    assert focused_id(page) == comment_id
    assert same_after_reload(page)["text"].count("1 commentaire") == 2


def test_a_comment_held_for_review_says_so_in_place(server: E2EServer, context: BrowserContext,
                                                    page: Page) -> None:
    newcomer = server.create_user(display_name="Nouveau Venu")  # a new account posting a link
    with server.session() as s:
        idea_id = make_idea(s, make_call(s, phase="voting", comments_during_voting=True)).id
        s.commit()
    login_as(context, server, newcomer)
    page.goto(f"/ideas/{idea_id}")
    page.get_by_label("Votre commentaire").fill("Voyez www.exemple-promo.com pour des bancs.")
    page.get_by_role("button", name="Publier mon commentaire").click()
    expect(page.locator("#comment-status")).to_contain_text("dès qu’un modérateur l’aura vérifié")
    after = same_after_reload(page)
    assert "masqué le temps qu’une modératrice ou un modérateur l’examine" in after["text"]


def test_a_form_is_sent_once_and_can_be_sent_again_after_going_back(server: E2EServer, context: BrowserContext,
                                                                     page: Page) -> None:
    citizen = server.create_user()
    with server.session() as s:
        slug = make_call(s).slug
        s.commit()
    login_as(context, server, citizen)
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Titre").fill("Une idée envoyée une fois")
    page.get_by_label("Votre idée").fill("Des fontaines dans chaque parc, pour l'été.")
    # Shortly after the first sending, while the answer is held back, the page notes whether its
    # buttons are disabled and taps again (into sessionStorage, which outlives the page).
    page.evaluate("""() => window.addEventListener("submit", (event) => setTimeout(() => {
      const form = event.target;
      sessionStorage.setItem("disabled", JSON.stringify(
        Array.from(form.querySelectorAll("button")).map((b) => b.disabled)));
      form.requestSubmit();
    }, 100))""")
    posts: list[str] = []

    def slow(route: Route) -> None:
        if route.request.method == "POST":
            posts.append(route.request.post_data or "")
            time.sleep(1)  # a slow phone network
        route.continue_()

    page.route(re.compile(r".*/ideas/new$"), slow)
    page.get_by_role("button", name="Publier mon idée").click()
    page.wait_for_url(re.compile(r"/ideas/\d+$"))
    # Every button of the form (check for similar ideas, publish, save as draft, preview) was disabled.
    disabled = page.evaluate("() => JSON.parse(sessionStorage.getItem('disabled'))")
    assert len(disabled) == 4 and all(disabled), disabled
    assert len(posts) == 1 and 'name="action"\r\n\r\nsubmit\r\n' in posts[0]  # the button's value was sent
    page.go_back()
    expect(page.get_by_role("button", name="Publier mon idée")).to_be_enabled()
    expect(page.get_by_role("button", name="Enregistrer comme brouillon")).to_be_enabled()
