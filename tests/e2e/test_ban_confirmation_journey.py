"""A moderator suspends an account through its confirmation page, in a real browser at phone and
desktop size (issue 15): the page names how many ideas get hidden before anything happens."""

import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e


@pytest.fixture
def context(new_context: object) -> BrowserContext:
    return new_context(locale="en-GB")  # type: ignore[operator]


def test_a_moderator_suspends_after_reading_the_consequences(server: E2EServer, context: BrowserContext,
                                                             page: Page) -> None:
    troll = server.create_user(language="en", display_name="Troll Tenace")
    with server.session() as s:
        call = make_call(s, slug=f"suspension-{uuid.uuid4().hex[:6]}")
        for title in ("Spam one", "Spam two"):
            make_idea(s, call, troll, title=title)
        s.commit()
    login_as(context, server, server.create_user(role="moderator", language="en"))
    page.goto(f"/moderation/users/{troll.id}")
    page.get_by_label("Reason").fill("Repeated insults in comments")
    page.get_by_label("Also hide their ideas and comments").check()
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suspend the account")
    expect(page.locator("main")).to_contain_text("2 ideas of theirs are hidden from everyone.")
    check_page(page, "ban-confirmation")
    page.get_by_role("button", name="Suspend the account now").click()
    expect(page.locator(".flash")).to_contain_text("The account of Troll Tenace is suspended.")
