"""My supports in a real browser (issue 15): reached from the menu on a phone, the supports of a
call per theme with what is left, passing the page checks at phone and desktop size."""

import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.call.models import VoteScope
from app.vote.models import Vote
from tests.e2e.harness import E2EServer, check_page, login_as, open_menu
from tests.factories import make_call, make_category, make_idea

pytestmark = pytest.mark.e2e


@pytest.fixture
def context(new_context: object) -> BrowserContext:
    return new_context(locale="en-GB")  # type: ignore[operator]


def test_a_citizen_finds_their_supports_from_the_menu(server: E2EServer, context: BrowserContext,
                                                      page: Page) -> None:
    citizen = server.create_user(language="en")
    with server.session() as s:
        call = make_call(s, slug=f"soutiens-{uuid.uuid4().hex[:6]}", title="Liège en fleurs", phase="voting",
                         votes_per_citizen=3, vote_scope=VoteScope.category)
        parks = make_category(s, call, name="Parks")
        ideas = [make_idea(s, call, title=title, category=parks, vote_count=1)
                 for title in ("Benches along the pond", "An orchard at Sart-Tilman")]
        assert call.id is not None and citizen.id is not None
        for idea in ideas:
            assert idea.id is not None
            s.add(Vote(idea_id=idea.id, user_id=citizen.id, call_id=call.id, category_id=parks.id))
        s.commit()
    login_as(context, server, citizen)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    open_menu(page)
    page.get_by_role("link", name="My supports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My supports")
    expect(page.locator("main")).to_contain_text("2 of 3 used · 1 left")
    expect(page.get_by_role("link", name="Benches along the pond")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw my support")).to_have_count(2)
    check_page(page, "my-supports")
