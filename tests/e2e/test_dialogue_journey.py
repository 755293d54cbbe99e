"""The whole dialogue of issue 6, two people in two browsers: a citizen proposes an idea in a
pre-moderated call; a moderator asks for changes; the citizen is notified, edits and resubmits;
the moderator approves and answers officially; in the review phase the idea is selected as a
winner (private until the results are published); the citizen sees each step in the notifications
and on the idea page. And votes stay within the call's limit.

In English: the labels are the msgids, so the journey does not depend on any catalogue."""

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.call.models import Call
from app.clock import utcnow
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_category, make_idea
from tests.support import body_of

pytestmark = pytest.mark.e2e

TITLE = "Drinking fountains in every park"


def test_citizen_and_moderator_dialogue(server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(display_name="Yasmine Citoyenne", language="en")
    moderator = server.create_user(role="moderator", display_name="Paul Modérateur", language="en")
    with server.session() as s:
        call = make_call(s, slug=f"parcs-{uuid.uuid4().hex[:6]}", title="Parks for everyone",
                         phase="submissions", premoderation=True)
        theme = make_category(s, call, name="Water")
        s.commit()
        call_id, slug, theme_name = call.id, call.slug, theme.name

    citizen_context = new_context(locale="en-GB")
    login_as(citizen_context, server, citizen)
    alice: Page = citizen_context.new_page()
    moderator_context = new_context(locale="en-GB")
    login_as(moderator_context, server, moderator)
    mod: Page = moderator_context.new_page()

    # The citizen proposes an idea; it waits for moderation.
    alice.goto(f"/calls/{slug}/ideas/new")
    alice.get_by_label("Title").fill(TITLE)
    alice.get_by_label("Your idea").fill("Summer is hot: a fountain near each playground would help children.")
    alice.get_by_label("Theme").select_option(label=theme_name)
    alice.get_by_role("button", name="Submit for moderation").click()
    expect(alice.locator(".flash")).to_contain_text("once a moderator has checked it")
    idea_id = int(re.search(r"/ideas/(\d+)$", alice.url).group(1))  # type: ignore[union-attr]

    # The moderator asks for changes.
    mod.goto(f"/moderation/ideas/{idea_id}")
    check_page(mod, "dialogue-moderation-idea")
    mod.locator("summary", has_text="Ask the author for changes").click()
    mod.get_by_label("What should the author change?").fill("Please say which parks you mean.")
    mod.get_by_role("button", name="Send the request").click()
    expect(mod.locator(".flash")).to_be_visible()

    # The citizen hears of it, by e-mail and on the site, edits and resubmits.
    message = server.wait_for_mail(citizen.email)
    assert f"/ideas/{idea_id}" in body_of(message)
    alice.goto("/notifications")
    expect(alice.locator("main")).to_contain_text(TITLE)
    check_page(alice, "dialogue-notifications")
    alice.goto(f"/ideas/{idea_id}")
    expect(alice.locator("main")).to_contain_text("Please say which parks you mean.")
    alice.get_by_role("link", name="Edit").click()
    alice.get_by_label("Your idea").fill("A fountain near the playgrounds of the Parc d'Avroy and the "
                                         "Parc de la Boverie would help children in summer.")
    alice.get_by_role("button", name="Submit for moderation").click()
    expect(alice.locator("main")).to_contain_text("Parc de la Boverie")

    # The moderator approves and answers officially.
    mod.goto(f"/moderation/ideas/{idea_id}")
    mod.get_by_role("button", name="Approve and publish").click()
    expect(mod.locator(".flash")).to_be_visible()
    mod.goto(f"/moderation/ideas/{idea_id}")
    mod.get_by_label("Status of the answer").select_option(index=1)
    mod.get_by_label("Public answer").fill("The parks department will study both places this autumn.")
    mod.get_by_role("button", name="Publish the answer").click()
    expect(mod.locator(".flash")).to_be_visible()

    alice.goto(f"/ideas/{idea_id}")
    expect(alice.get_by_role("heading", name=re.compile("The city's answer"))).to_be_visible()
    expect(alice.locator("main")).to_contain_text("The parks department will study both places")
    check_page(alice, "dialogue-idea-answered")

    # Review phase: the moderator selects the idea as a winner.
    with server.session() as s:
        row = s.exec(select(Call).where(Call.id == call_id)).one()
        now = utcnow()
        row.voting_start, row.review_start = now - timedelta(days=2), now - timedelta(hours=1)
        row.results_start, row.closes_at = now + timedelta(days=10), now + timedelta(days=20)
        s.add(row)
        s.commit()
    mod.goto(f"/moderation/calls/{call_id}/review")
    check_page(mod, "dialogue-review")
    selection = mod.locator("form.selection-form", has=mod.locator(f"#w-{idea_id}"))
    selection.get_by_label("Selected").check()
    selection.get_by_role("button", name="Save the selection").click()
    expect(mod.locator(f"#w-{idea_id}")).to_be_checked()

    alice.goto(f"/ideas/{idea_id}")
    # The selection is the moderators' own until the results are published (app.moderation.results).
    expect(alice.locator(".idea-meta")).to_be_visible()
    expect(alice.locator(".idea-meta .tag-winner")).to_have_count(0)
    alice.goto("/notifications")
    expect(alice.locator(".notification").first).to_be_visible()
    assert alice.locator(".notification").count() >= 2, alice.locator("main").inner_text()


def test_votes_within_the_limit(server: E2EServer, new_context: Callable[..., BrowserContext]) -> None:
    citizen = server.create_user(language="en")
    with server.session() as s:
        call = make_call(s, phase="voting", votes_per_citizen=2)
        ideas = [make_idea(s, call, title=f"Idea for the limit {n}") for n in range(3)]
        s.commit()
        ids = [idea.id for idea in ideas]
    context = new_context(locale="en-GB")
    login_as(context, server, citizen)
    page = context.new_page()
    for idea_id, left in zip(ids[:2], ("You have 1 support left in this call.",
                                       "You have 0 supports left in this call."), strict=True):
        page.goto(f"/ideas/{idea_id}")
        page.get_by_role("button", name="Support this idea").click()
        expect(page.get_by_role("button", name="Withdraw my support")).to_be_visible()
        expect(page.locator("[data-votes-left]")).to_have_text(left)

    page.goto(f"/ideas/{ids[2]}")  # the limit is reached: no button, a clear message
    expect(page.get_by_role("button", name="Support this idea")).to_have_count(0)
    expect(page.locator("#vote")).to_contain_text("You have used all your supports")
    check_page(page, "vote-limit-reached")

    page.goto(f"/ideas/{ids[0]}")  # withdrawing one frees a vote for the third idea
    page.get_by_role("button", name="Withdraw my support").click()
    expect(page.get_by_role("button", name="Support this idea")).to_be_visible()
    page.goto(f"/ideas/{ids[2]}")
    page.get_by_role("button", name="Support this idea").click()
    expect(page.locator("[data-vote-count]")).to_have_text("1 support")
