"""Too large a photo is said before sending (issue 10, defect 15): the idea form's script checks
the chosen files against the limits the server applies, so the form is not sent to be refused and
nothing typed is lost. It runs under the CSP (a script file, no inline code)."""

import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import E2EServer, check_page, log_of, login_as
from tests.factories import make_call

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def test_a_photo_over_the_limit_is_refused_before_sending(server: E2EServer, context: BrowserContext,
                                                          page: Page) -> None:
    citizen = server.create_user(display_name="Inès Photos")
    with server.session() as s:
        call = make_call(s, slug=f"photos-{uuid.uuid4().hex[:6]}", phase="submissions")
        s.commit()
        slug = call.slug
    login_as(context, server, citizen)
    page.goto(f"/calls/{slug}/ideas/new")
    check_page(page, "idea-form-upload-limit")
    page.get_by_label("Titre").fill("Des bancs au bord de la Meuse")
    page.get_by_label("Votre idée").fill("Des bancs à l'ombre pour les personnes âgées et les familles.")
    photo = page.locator("#f-photo_1")
    photo.set_input_files({"name": "phone.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + bytes(11 * MIB)})
    warning = page.locator("#f-photo_1-size")
    expect(warning).to_have_text("Cette photo est trop lourde\u202f: 10 Mo au maximum.")
    expect(photo).to_have_attribute("aria-invalid", "true")
    url = page.url
    page.get_by_role("button", name="Publier mon idée").click()
    expect(photo).to_be_focused()
    assert page.url == url  # not sent
    assert page.get_by_label("Titre").input_value() == "Des bancs au bord de la Meuse"  # nothing lost
    assert not log_of(page).console_errors

    # A smaller photo clears the warning.
    photo.set_input_files({"name": "small.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + bytes(MIB)})
    expect(warning).to_have_count(0)
    expect(photo).not_to_have_attribute("aria-invalid", "true")
