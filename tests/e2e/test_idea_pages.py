"""Calls and ideas pages (issue 3) under every check of `check_page`, on the demo's content, in
French and English, logged out and logged in; the idea lists send thumbnails, not originals."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from app.account.models import User
from app.call.models import Call
from app.idea.models import Idea, IdeaPhoto
from tests.e2e.harness import E2EServer, check_page, login_as, visit_and_check
from tests.factories import make_call, make_idea

pytestmark = pytest.mark.e2e

LANGUAGES = ("fr", "en")
MAX_THUMB_BYTES = 80 * 1024


def demo_content(server: E2EServer) -> tuple[list[str], int, int]:
    """The demo's call slugs, a published idea with a photo and one without."""
    with server.session() as s:
        slugs = [c.slug for c in s.exec(select(Call).order_by(Call.id)).all()]  # type: ignore[arg-type]
        with_photo = s.exec(select(Idea.id).join(IdeaPhoto, IdeaPhoto.idea_id == Idea.id)  # type: ignore[arg-type]
                            .where(Idea.status == "published", Idea.hidden_at.is_(None))).first()  # type: ignore[union-attr]
        without = s.exec(select(Idea.id).where(Idea.status == "published", Idea.hidden_at.is_(None),  # type: ignore[union-attr]
                                               ~Idea.id.in_(select(IdeaPhoto.idea_id)))).first()  # type: ignore[union-attr]
    assert slugs and with_photo and without, "the demo should have calls and ideas with and without photos"
    return slugs, int(with_photo), int(without)


def test_call_and_idea_pages_logged_out(server: E2EServer, page: Page) -> None:
    # The site crawl (test_site_crawl.py) checks every other public page as a visitor.
    slugs, with_photo, without = demo_content(server)
    visit_and_check(page, "/", "home-calls", LANGUAGES)
    visit_and_check(page, f"/calls/{slugs[0]}", "call", LANGUAGES)
    visit_and_check(page, f"/ideas/{with_photo}", "idea-with-photo", LANGUAGES)
    visit_and_check(page, f"/ideas/{without}", "idea", LANGUAGES)


def test_call_and_idea_pages_logged_in(server: E2EServer, context: BrowserContext, page: Page) -> None:
    slugs, with_photo, _without = demo_content(server)
    citizen = server.create_user(display_name="Lou Participante")
    login_as(context, server, citizen)
    for lang in LANGUAGES:
        page.goto(f"/?lang={lang}")
        check_page(page, "home-calls-logged-in")
        page.goto(f"/ideas/{with_photo}")
        check_page(page, "idea-logged-in")
        # The crawl checks the other calls' pages logged in; here the one taking ideas.
        open_calls = []
        for slug in slugs:
            page.goto(f"/calls/{slug}")
            if page.locator(f'a[href="/calls/{slug}/ideas/new"]').count():
                open_calls.append(slug)
        assert open_calls, "a demo call should accept ideas"
        page.goto(f"/calls/{open_calls[0]}")
        check_page(page, "call-open-logged-in")
        page.goto(f"/calls/{open_calls[0]}/ideas/new")
        check_page(page, "idea-form")
        page.locator("form button[value=submit]").click()
        assert page.locator("#form-errors").is_visible()
        check_page(page, "idea-form-errors")


def test_idea_lists_send_thumbnails(server: E2EServer, page: Page) -> None:
    slugs, _with_photo, _without = demo_content(server)
    thumbs = 0
    for slug in slugs:
        page.goto(f"/calls/{slug}")
        for img in page.locator(".idea-card img").all():
            src = img.get_attribute("src") or ""
            assert src.endswith("/thumb"), f"a list shows {src}, not a thumbnail"
            body = page.request.get(src).body()
            assert len(body) <= MAX_THUMB_BYTES, f"{src} weighs {len(body)} bytes"
            assert int(img.get_attribute("width") or 0) <= 640
            thumbs += 1
    assert thumbs, "the demo's lists should show at least one photo"


def test_an_unverified_citizen_is_told_to_confirm_before_proposing(server: E2EServer, context: BrowserContext,
                                                                    page: Page) -> None:
    slugs, _with_photo, _without = demo_content(server)
    with server.session() as s:
        assert s.exec(select(User).limit(1)).first()
    login_as(context, server, server.create_user(verified=False))
    for slug in slugs:
        response = page.goto(f"/calls/{slug}/ideas/new")
        assert response is not None
        if response.status == 403 and "e-mail" in page.locator("main").inner_text():
            check_page(page, "idea-form-unverified")
            return
    pytest.fail("no call told an unverified citizen to confirm the e-mail address")


def test_an_edited_idea_shows_its_previous_wording_and_moderators_the_difference(
        server: E2EServer, context: BrowserContext, page: Page) -> None:
    """Issue 10, defect 5: the edit of a published idea, in its public history and for moderators."""
    author = server.create_user(display_name="Alice Marchal")
    moderator = server.create_user(role="moderator", display_name="Marc Modérateur")
    with server.session() as s:
        call = make_call(s, title="Appel aux idées vertes")
        idea_id = make_idea(s, call, author, title="Planter des arbres rue Louvrex",
                            body="Vingt tilleuls le long de la rue, pour l'ombre en été.").id
        s.commit()
    login_as(context, server, author)
    page.goto(f"/ideas/{idea_id}/edit")
    page.locator("#f-title").fill("Un parking rue Louvrex")
    page.locator("#f-body_md").fill("Un parking de deux cents places le long de la rue.")
    page.locator("form button[value=save]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    context.clear_cookies()
    page.goto(f"/ideas/{idea_id}")
    history = page.locator("#history")
    expect(history).to_contain_text("Modifiée par son auteur ou autrice — Alice Marchal")
    history.get_by_text("Voir la formulation précédente").click()
    expect(history.locator(".previous-wording")).to_contain_text("Vingt tilleuls")
    check_page(page, "idea-edited")

    login_as(context, server, moderator)
    page.goto(f"/moderation/ideas/{idea_id}")
    expect(page.locator("#versions del").first).to_have_text("Planter des arbres")
    expect(page.locator("#versions ins").first).to_have_text("Un parking")
    check_page(page, "moderation-idea-versions")
