"""The city's identity (issue 15): administrators set it on one page; every page, the favicon,
the app's icons and manifest follow it; a colour people could not read is refused."""

import io
import json
from xml.etree import ElementTree as ET

from PIL import Image
from sqlmodel import Session, select

from app.account.models import Role
from app.audit import AuditEntry
from app.identity.models import CityIdentity
from tests.factories import make_user
from tests.support import SmtpSink, WebClient, body_of

GOOD = {"platform_name": "Réinventons Liège", "city_name": "Liège", "contact_email": "participation@liege.be",
        "primary_color": "#1d4f91", "accent_color": "#8a1c2b",
        "footer_label": ["Ville de Liège", "", "", "", ""],
        "footer_url": ["https://www.liege.be/", "", "", "", ""],
        "social_mastodon": "https://mastodon.social/@liege"}


def _png(colour: tuple[int, int, int, int] = (200, 30, 40, 255), size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def _admin(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)


def _save(client: WebClient, data: dict[str, object], files: dict[str, tuple[str, bytes, str]] | None = None):  # type: ignore[no-untyped-def]
    return client.submit("/admin/identity", data, files=files or {"logo_file": ("", b"", "application/octet-stream")})


def test_defaults_before_anything_is_saved(client: WebClient) -> None:
    page = client.get("/").text
    assert "· Réinventons</title>" in page
    assert '<a class="brand" href="/">Réinventons</a>' in page
    css = client.get("/brand.css").text
    assert "--brand: #0b5c4f;" in css and "--brand-accent: #07443a;" in css


def test_an_administrator_sets_the_identity_and_every_page_shows_it(client: WebClient, session: Session) -> None:
    _admin(client, session)
    assert 'href="/admin/identity"' in client.get("/admin").text
    response = _save(client, GOOD, {"logo_file": ("logo.png", _png(), "image/png")})
    assert response.status_code == 303, response.text
    for path in ("/", "/calls", "/privacy", "/account/login"):
        page = client.get(path).text
        assert "· Réinventons Liège</title>" in page, path
        assert 'alt="Réinventons Liège"' in page and 'class="brand-logo"' in page
        footer = page.split('<footer class="site-footer">')[1]
        assert "Liège" in footer and 'href="mailto:participation@liege.be"' in footer
        assert 'href="https://www.liege.be/"' in footer and ">Ville de Liège<" in footer
        assert 'href="https://mastodon.social/@liege"' in footer and ">Mastodon<" in footer
    missing = client.get("/no-such-page")  # answered before any route: it reads the identity itself
    assert missing.status_code == 404 and "· Réinventons Liège</title>" in missing.text
    page = client.get("/").text
    href = page.split('rel="stylesheet" href="/brand.css?v=')[1].split('"')[0]
    css = client.get(f"/brand.css?v={href}")
    assert "--brand: #1d4f91;" in css.text and "--brand-accent: #8a1c2b;" in css.text
    assert "immutable" in css.headers["cache-control"]
    assert 'name="theme-color" content="#1d4f91"' in page

    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "identity_save")).one()
    # Only what changed is named, never the values.
    assert set(entry.details["changed"]) == {"platform_name", "city_name", "contact_email", "primary", "accent",
                                             "footer_links", "social_links", "logo"}


def test_a_low_contrast_colour_is_refused_with_the_ratio_and_nothing_is_saved(client: WebClient,
                                                                              session: Session) -> None:
    _admin(client, session)
    response = _save(client, {**GOOD, "primary_color": "#777777"}, {"logo_file": ("logo.png", _png(), "image/png")})
    assert response.status_code == 422
    text = response.text.replace("\u202f", " ").replace("\xa0", " ")
    # French, the default language: the lowest ratio it reaches (with its light tint, 4.1:1) and the minimum.
    assert "La couleur principale #777777 a un contraste de 4,1:1" in text and "4,5:1" in text
    assert session.exec(select(CityIdentity)).first() is None
    assert session.exec(select(AuditEntry)).first() is None
    english = client.submit("/admin/identity?lang=en", {**GOOD, "accent_color": "#ffcc00"},
                            files={"logo_file": ("", b"", "application/octet-stream")})
    assert english.status_code == 422
    assert "The accent colour #ffcc00 has a contrast of" in english.text and "at least 4.5:1" in english.text


def test_bad_links_and_a_file_that_is_not_an_image_are_refused(client: WebClient, session: Session) -> None:
    _admin(client, session)
    response = _save(client, {**GOOD, "footer_url": ["javascript:alert(1)", "", "", "", ""],
                              "social_bluesky": "ftp://bsky.app/x"},
                     {"logo_file": ("logo.png", b"<html>not an image</html>", "image/png")})
    assert response.status_code == 422
    assert response.text.count("https://") >= 1
    assert "javascript:alert(1)" not in response.text.split('<footer')[1]
    assert "logo" in response.text
    assert session.exec(select(CityIdentity)).first() is None


def test_an_svg_logo_is_drawn_as_an_image_and_its_script_never_served(client: WebClient, session: Session) -> None:
    _admin(client, session)
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" onload="alert(1)">'
           b'<script>alert("pwned")</script><circle cx="50" cy="50" r="40" fill="#c8102e"/></svg>')
    assert _save(client, GOOD, {"logo_file": ("logo.svg", svg, "image/svg+xml")}).status_code == 303
    row = session.exec(select(CityIdentity)).one()
    assert row.logo_png is not None and row.logo_png.startswith(b"\x89PNG")
    for path in ("/brand/logo.png", "/favicon.ico", "/apple-touch-icon.png", "/brand/icon-192.png"):
        response = client.get(path)
        assert response.status_code == 200
        assert not response.headers["content-type"].startswith("image/svg")
        assert b"pwned" not in response.content and b"<script" not in response.content
    with Image.open(io.BytesIO(client.get("/brand/logo.png").content)) as image:
        assert image.format == "PNG" and image.getpixel((image.width // 2, image.height // 2))[:3] == (200, 16, 46)


def test_favicon_and_manifest_follow_the_logo(client: WebClient, session: Session) -> None:
    before_ico = client.get("/favicon.ico").content
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == "Réinventons" and manifest["theme_color"] == "#0b5c4f"
    _admin(client, session)
    assert _save(client, GOOD, {"logo_file": ("logo.png", _png((0, 0, 255, 255), (64, 64)), "image/png")}
                 ).status_code == 303
    after_ico = client.get("/favicon.ico")
    assert after_ico.content != before_ico
    with Image.open(io.BytesIO(after_ico.content)) as ico:
        assert ico.format == "ICO" and ico.convert("RGB").getpixel((ico.width // 2, ico.height // 2)) == (0, 0, 255)
    manifest = json.loads(client.get("/manifest.webmanifest").text)
    assert manifest["name"] == "Réinventons Liège" and manifest["theme_color"] == "#1d4f91"
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"] if "purpose" not in icon}
    maskable = next(icon["src"] for icon in manifest["icons"] if icon.get("purpose") == "maskable")
    assert maskable.startswith("/brand/maskable-icon.png?v=")
    with Image.open(io.BytesIO(client.get(maskable).content)) as image:
        # The logo in the middle, inside the safe zone; white at the edges the masks cut off.
        assert image.size == (512, 512) and image.getpixel((256, 256)) == (0, 0, 255)
        assert image.getpixel((5, 5)) == (255, 255, 255)
    for size in (192, 512):
        icon = client.get(sizes[f"{size}x{size}"])
        assert "immutable" in icon.headers["cache-control"]
        with Image.open(io.BytesIO(icon.content)) as image:
            assert image.size == (size, size) and image.convert("RGB").getpixel((size // 2, size // 2)) == (0, 0, 255)
    apple = client.get(client.get("/").text.split('rel="apple-touch-icon" href="')[1].split('"')[0])
    with Image.open(io.BytesIO(apple.content)) as image:
        assert image.size == (180, 180) and image.mode == "RGB"


def test_only_administrators_and_only_with_the_forms_token(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    session.commit()
    visitor = client.get("/admin/identity", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/account/login")
    client.login_as(moderator)
    assert client.get("/admin/identity").status_code == 403
    assert _save(client, GOOD).status_code == 403
    client.cookies.clear()
    client.login_as(admin)
    assert client.post("/admin/identity", data=GOOD).status_code == 403
    assert session.exec(select(CityIdentity)).first() is None


def test_e_mails_are_signed_and_sent_in_the_platforms_name(mail_client: WebClient, smtp: SmtpSink,
                                                          session: Session) -> None:
    admin = make_user(session, role=Role.admin, email="admin@example.org")
    make_user(session, email="paul@example.org")
    session.commit()
    mail_client.login_as(admin)
    assert _save(mail_client, GOOD).status_code == 303
    mail_client.cookies.clear()
    mail_client.submit("/account/password/forgot", {"email": "paul@example.org"})
    mail_client.run_worker()
    message = smtp.last_to("paul@example.org")
    assert str(message["From"]).startswith("Réinventons Liège <") or "R=C3=A9inventons" in str(message["From"])
    assert body_of(message).replace("\r\n", "\n").rstrip().endswith("-- \nRéinventons Liège")


def test_the_platforms_name_replaces_the_products_in_e_mails_feeds_and_share_images(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    # A name without "Réinventons" in it, so that any place still saying the product's name shows.
    from tests.factories import make_call, make_idea

    admin = make_user(session, role=Role.admin, email="admin@example.org")
    make_user(session, email="paul@example.org")
    call = make_call(session, phase="voting", title="Liège en fleurs")
    idea = make_idea(session, call, title="Des bacs à fleurs")
    session.commit()
    before = mail_client.get("/share/site.png").content
    idea_before = mail_client.get(f"/ideas/{idea.id}/share.png").content
    mail_client.login_as(admin)
    assert _save(mail_client, {**GOOD, "platform_name": "Liège participe"}).status_code == 303
    mail_client.cookies.clear()

    mail_client.submit("/account/password/forgot", {"email": "paul@example.org"})
    mail_client.run_worker()
    body = body_of(smtp.last_to("paul@example.org"))
    assert "votre compte Liège participe" in body and "Réinventons" not in body

    a = "{http://www.w3.org/2005/Atom}"
    for path in (f"/calls/{call.slug}/feed.atom", "/announcements/feed.atom"):
        feed = ET.fromstring(mail_client.get(path).content)
        assert feed.findtext(f"{a}author/{a}name") == "Liège participe", path
    entry_authors = {e.findtext(f"{a}author/{a}name")
                     for e in ET.fromstring(mail_client.get(f"/calls/{call.slug}/feed.atom").content)
                     .findall(f"{a}entry")}
    assert entry_authors == {"Liège participe"}
    # The share images are drawn with the new name: not the images drawn before.
    assert mail_client.get("/share/site.png").content != before
    assert mail_client.get(f"/ideas/{idea.id}/share.png").content != idea_before
