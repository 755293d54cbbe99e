"""The idea form's previews and a withdrawal through its confirmation, in a real browser at
phone and desktop size (issue 15): the author sees the chosen photo next to its description,
previews the Markdown in place without losing the photo, publishes; and later withdraws the
published idea only after the page named what is lost."""

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.vote.models import Vote
from tests.e2e.harness import E2EServer, check_page, login_as
from tests.factories import make_call, make_idea, make_user
from tests.idea.helpers import png

pytestmark = pytest.mark.e2e


@pytest.fixture
def context(new_context: object) -> BrowserContext:
    return new_context(locale="en-GB")  # type: ignore[operator]


def test_the_author_previews_in_place_and_keeps_the_photo(server: E2EServer, context: BrowserContext, page: Page,
                                                          tmp_path: Path) -> None:
    with server.session() as s:
        call = make_call(s, slug=f"apercu-{uuid.uuid4().hex[:6]}", title="Un parc pour tous", phase="submissions")
        s.commit()
        slug = call.slug
    login_as(context, server, server.create_user(language="en"))
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Title").fill("Benches along the pond")
    page.get_by_label("Your idea").fill("The **Avroy park** lacks benches:\n\n- near the kiosk\n- by the pond")
    photo = tmp_path / "pond.png"
    photo.write_bytes(png(400, 300))
    page.get_by_label("Photo 1", exact=True).set_input_files(str(photo))
    thumbnail = page.locator(".photo-slot img.photo-preview")
    expect(thumbnail).to_be_visible()  # the chosen photo, next to its description field
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") == 400  # the file itself
    page.get_by_label("Description of photo 1").fill("The pond, with no bench in sight")

    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#idea-preview .idea-preview")
    expect(preview).to_contain_text("Benches along the pond")
    expect(preview.locator("strong")).to_have_text("Avroy park")
    expect(preview.locator("li")).to_have_count(2)
    assert "/preview" not in page.url  # in place: the page, and the chosen file, stayed
    assert page.get_by_label("Photo 1", exact=True).evaluate("input => input.files.length") == 1
    expect(preview).not_to_contain_text("choose them again")
    check_page(page, "idea-form-preview")

    page.get_by_role("button", name="Publish my idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Benches along the pond")
    expect(page.get_by_role("img", name="The pond, with no bench in sight")).to_be_visible()


def test_without_javascript_the_preview_is_a_page(server: E2EServer, new_context: object) -> None:
    context = new_context(locale="en-GB", java_script_enabled=False)  # type: ignore[operator]
    with server.session() as s:
        call = make_call(s, slug=f"sans-js-{uuid.uuid4().hex[:6]}", phase="submissions")
        s.commit()
        slug = call.slug
    login_as(context, server, server.create_user(language="en"))
    page = context.new_page()
    page.goto(f"/calls/{slug}/ideas/new")
    page.get_by_label("Title").fill("A drinking fountain")
    page.get_by_label("Your idea").fill("Near the *playground*.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".idea-preview em")).to_have_text("playground")
    assert page.url.endswith("/preview#idea-preview")
    expect(page.get_by_label("Title")).to_have_value("A drinking fountain")


def test_the_author_withdraws_a_published_idea_through_the_confirmation(server: E2EServer, context: BrowserContext,
                                                                         page: Page) -> None:
    author = server.create_user(language="en")
    with server.session() as s:
        call = make_call(s, slug=f"retrait-{uuid.uuid4().hex[:6]}", phase="voting")
        idea = make_idea(s, call, author, title="A covered market on the Place Cockerill", vote_count=2)
        assert call.id is not None and idea.id is not None
        for _ in range(2):
            supporter = make_user(s)
            assert supporter.id is not None
            s.add(Vote(idea_id=idea.id, user_id=supporter.id, call_id=call.id))
        s.commit()
        idea_id = idea.id
    login_as(context, server, author)
    page.goto(f"/ideas/{idea_id}")
    page.get_by_role("link", name="Withdraw my idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw my idea")
    expect(page.locator("main")).to_contain_text("2 people support this idea: their supports will no longer count")
    expect(page.locator("main")).to_contain_text("Withdrawing cannot be undone")
    check_page(page, "idea-withdraw-confirmation")
    page.get_by_role("link", name="Keep my idea").click()  # changing one's mind costs nothing
    expect(page.locator("main")).not_to_contain_text("Your idea is withdrawn")
    page.get_by_role("link", name="Withdraw my idea").click()
    page.get_by_role("button", name="Withdraw my idea for good").click()
    expect(page.locator(".flash")).to_contain_text("Your idea is withdrawn.")
    expect(page.get_by_role("link", name="Withdraw my idea")).to_have_count(0)
